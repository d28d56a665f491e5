import type { H3Event } from 'h3'
import { createServer, type Server, type ServerResponse } from 'node:http'
import { connect, type Socket } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { ChatStream } from '../../server/services/chat-sse'

// The SSE writer of POST /api/chat (server/services/chat-sse.ts) on a real socket: what leaves at once, and how a
// fast model's tokens are paced into fewer socket writes. The client is a raw TCP socket: each `data` it sees is at
// least one server write (loopback never splits a small write, it may only merge several).

const FLUSH_MS = 16
let server: Server | undefined
let client: Socket | undefined
afterEach(async () => {
  client?.destroy()
  await new Promise(resolve => server ? server.close(resolve) : resolve(null))
  server = client = undefined
})

interface Read { at: number, tokens: string[], events: string[] }

/** A server whose one request gets a ChatStream, and a client that records every read with the events in it. */
async function open(flushMs = FLUSH_MS) {
  let stream!: ChatStream
  const ready = new Promise<void>((resolve) => {
    server = createServer((_req, res: ServerResponse) => {
      stream = new ChatStream({ node: { res } } as unknown as H3Event, 60_000, 30_000, flushMs)
      stream.open()
      resolve()
    })
  })
  await new Promise<void>(resolve => server!.listen(0, '127.0.0.1', resolve))
  const { port } = server!.address() as { port: number }
  const reads: Read[] = []
  client = connect(port, '127.0.0.1', () => client!.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
  client.setEncoding('utf8')
  client.on('data', (chunk: string) => {
    reads.push({ at: performance.now(), tokens: [...chunk.matchAll(/"t":"([^"]*)"/g)].map(m => m[1]!), events: [...chunk.matchAll(/event: (\w+)/g)].map(m => m[1]!) })
  })
  await ready
  const tokens = () => reads.flatMap(r => r.tokens)
  const until = async (check: () => boolean) => { while (!check()) await new Promise(r => setTimeout(r, 2)) }
  return { stream, reads, tokens, until }
}

const tick = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

describe('ChatStream: token pacing', () => {
  it('meta and the first token leave at once; later tokens of a fast model share writes; done takes the held ones', { timeout: 30_000 }, async () => {
    const { stream, reads, tokens, until } = await open()
    void stream.send('meta', { conversationId: 'c', userMessageId: 'u', model: 'm' })
    void stream.send('token', { t: 't0' })
    // the first token is not held: it arrives while nothing else is sent
    await until(() => tokens().length === 1)
    // 60 tokens 1 ms apart (about 60–120 ms): unpaced, that is 60 writes
    for (let i = 1; i <= 60; i++) {
      void stream.send('token', { t: `t${i}` })
      // the last token and done in one turn: done must take it along (a pause here would let the timer send it)
      if (i < 60) await tick(1)
    }
    void stream.send('done', { assistantMessageId: 'a', finishReason: 'stop', usage: null, durationMs: 1 })
    stream.end()
    await until(() => reads.some(r => r.events.includes('done')))
    expect(tokens()).toEqual(Array.from({ length: 61 }, (_, i) => `t${i}`))
    const carrying = reads.filter(r => r.tokens.length)
    // the first read holds the first token alone
    expect(carrying[0]!.tokens).toEqual(['t0'])
    // paced at one write per 16 ms: far fewer reads than tokens (on a busy machine even fewer: reads only merge)
    expect(carrying.length).toBeLessThanOrEqual(Math.ceil((carrying.at(-1)!.at - carrying[1]!.at) / FLUSH_MS) + 3)
    expect(carrying.length).toBeLessThan(30)
    // done came in the same write as the last held tokens (it does not wait for the pacing)
    expect(reads.find(r => r.events.includes('done'))!.tokens.at(-1)).toBe('t60')
  })

  it('held tokens leave on their own within the pacing interval', { timeout: 30_000 }, async () => {
    const { stream, tokens, until } = await open()
    void stream.send('token', { t: 'a' })
    await until(() => tokens().length === 1)
    // sent right after a write: held, then sent by the pacing timer with nothing else happening
    void stream.send('token', { t: 'b' })
    void stream.send('token', { t: 'c' })
    await until(() => tokens().length === 3)
    expect(tokens()).toEqual(['a', 'b', 'c'])
  })

  it('flush() sends the held tokens at once (the model finished: the last ones do not wait for the save)', { timeout: 30_000 }, async () => {
    // a one-minute interval: without flush() the held tokens would not leave within the test's time
    const { stream, reads, tokens, until } = await open(60_000)
    void stream.send('token', { t: 'a' })
    await until(() => tokens().length === 1)
    void stream.send('token', { t: 'b' })
    void stream.send('token', { t: 'c' })
    await tick(50)
    expect(tokens()).toEqual(['a'])
    stream.flush()
    await until(() => tokens().length === 3)
    expect(reads.at(-1)!.tokens).toEqual(['b', 'c'])
  })

  it('any other event leaves at once and takes the held tokens with it, in order', { timeout: 30_000 }, async () => {
    const { stream, reads, tokens, until } = await open()
    void stream.send('token', { t: 'a' })
    await until(() => tokens().length === 1)
    void stream.send('token', { t: 'b' })
    void stream.send('error', { message: 'x', reason: 'model-error' })
    await until(() => reads.some(r => r.events.includes('error')))
    // the error left at once and took the held token with it, in order
    const last = reads.find(r => r.events.includes('error'))!
    expect(last.tokens).toEqual(['b'])
    expect(last.events).toEqual(['token', 'error'])
  })
})
