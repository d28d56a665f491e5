import { createServer, type Server, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { boundedBackoff, boundedSocketFactory } from '../../server/db/pg-socket'

// a real TCP server that either closes every connection at once (a database that keeps refusing start-ups behind a
// proxy) or greets it (a database that answers again)
let server: Server | undefined
let mode: 'close' | 'greet' = 'close'
async function listen() {
  server = createServer((socket) => {
    socket.on('error', () => {}) // the client's reset after its greeting
    if (mode === 'close') socket.destroy()
    else socket.write('R')
  })
  await new Promise<void>(resolve => server!.listen(0, '127.0.0.1', resolve))
  return { host: ['127.0.0.1'], port: [(server.address() as { port: number }).port], path: false as const }
}
afterEach(async () => { await new Promise(resolve => server?.close(resolve)) })

/** How one attempt ends: the server spoke, our CONNECT_TIMEOUT, or closed by the server (a reset included). */
function outcome(socket: Socket) {
  return new Promise<string>((resolve) => {
    socket.once('data', () => { resolve('data'); socket.destroy() })
    socket.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'CONNECT_TIMEOUT' ? error.code : 'closed'))
    socket.once('close', () => resolve('closed'))
  })
}

describe('boundedSocketFactory (server/db/pg-socket.ts)', () => {
  it('attempts closed before the server spoke: real tries within the budget, CONNECT_TIMEOUT past it, one probe per interval, and a greeting ends the streak', async () => {
    mode = 'close'
    const options = await listen()
    const factory = boundedSocketFactory(300, 200)
    expect(await outcome(factory(options))).toBe('closed') // starts the failing streak
    expect(await outcome(factory(options))).toBe('closed') // still within the budget: a real attempt
    await new Promise(resolve => setTimeout(resolve, 350))
    expect(await outcome(factory(options))).toBe('closed') // past the budget: the first attempt is a probe…
    expect(await outcome(factory(options))).toBe('CONNECT_TIMEOUT') // …the next ones fail at once
    mode = 'greet'
    expect(await outcome(factory(options))).toBe('CONNECT_TIMEOUT') // even though the server is back: no probe yet
    await new Promise(resolve => setTimeout(resolve, 250))
    expect(await outcome(factory(options))).toBe('data') // the probe reaches it and ends the streak
    expect(await outcome(factory(options))).toBe('data')
  })

  it('the back-off between attempts never passes half the budget (postgres.js alone grows it to 20 s)', () => {
    const backoff = boundedBackoff(2000)
    for (const retries of [0, 1, 3, 6, 10, 30]) expect(backoff(retries)).toBeLessThanOrEqual(1)
    expect(backoff(0)).toBeLessThan(0.011)
  })
})
