import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { nodeFetch } from '../../server/services/model/node-fetch'

// The model client's fetch keeps connections alive. A server may close an idle one just as a request is written
// on it (a Node server does after 5 s): that request never reached the server, so it is sent again, once, on a
// new connection — never when the server had answered or when the failure is anything else.
describe('nodeFetch on a kept-alive connection the server drops', () => {
  let server: Server
  let url: string
  let served = 0
  /** Requests whose connection the server destroyed instead of answering. */
  let dropped = 0
  let dropNext: 'reused' | 'all' | null = null
  const requestsOn = new WeakMap<object, number>()

  beforeAll(async () => {
    server = createServer((req, res) => {
      const n = (requestsOn.get(req.socket) ?? 0) + 1
      requestsOn.set(req.socket, n)
      if (dropNext === 'all' || (dropNext === 'reused' && n > 1)) {
        dropped++
        req.socket.destroy()
        return
      }
      served++
      res.end(JSON.stringify({ n }))
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
  })
  afterAll(() => new Promise(resolve => server.close(resolve)))

  it('a request on a reused connection that the server closes is sent once more on a new one', async () => {
    dropNext = null
    expect(await (await nodeFetch(url)).json()).toEqual({ n: 1 })
    dropNext = 'reused'
    const before = served
    const res = await nodeFetch(url, { method: 'POST', body: '{}' })
    // the second request went out on the kept-alive socket (dropped), then on a fresh connection (its first request)
    expect(dropped).toBe(1)
    expect(await res.json()).toEqual({ n: 1 })
    expect(served).toBe(before + 1)
  })

  it('a server that drops every request gets one more try at most, then fetch fails with the cause', async () => {
    dropNext = 'all'
    dropped = 0
    const failure = await nodeFetch(url).catch((e: unknown) => e)
    expect(failure).toBeInstanceOf(TypeError)
    expect((failure as TypeError).message).toBe('fetch failed')
    expect((failure as TypeError & { cause: { code: string } }).cause.code).toMatch(/ECONNRESET|EPIPE/)
    // the kept-alive socket of the test above (dropped: stale), then one fresh connection (dropped: a real failure)
    expect(dropped).toBe(2)
  })
})
