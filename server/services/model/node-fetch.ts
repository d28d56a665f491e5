import http from 'node:http'
import https from 'node:https'

/**
 * The `fetch` ollama-js is given: a request over node:http with a keep-alive agent, answered with the few parts
 * of a Response that ollama-js reads (`ok`, `status`, `statusText`, `headers.get`, `json`, `text`, and
 * `body.getReader()` for a stream). Why not the global fetch: undici's Request/Response objects and web streams
 * cost more CPU per model chunk than the chunk's own JSON; a streamed answer passes here once per token
 * (bench/README.md "2026-12-02, branch stream").
 *
 * Behaves like fetch where the callers look: a connection failure rejects with TypeError('fetch failed') whose
 * `cause.code` is the socket's (ECONNREFUSED…), a body cut short rejects the read with TypeError('terminated'),
 * an aborted signal rejects with its reason. The body is read with back-pressure: the socket is paused while a
 * chunk waits for its reader. `extraSignal` aborts the request too (our own, for a model that is still loading).
 */
// An idle kept-alive socket is closed by us after 4 s, before a Node server's default 5 s keep-alive timeout
// closes it under a request (Ollama's own limit is longer); the race that is left is retried below.
const IDLE_MS = 4000
const agents = { 'http:': new http.Agent({ keepAlive: true, timeout: IDLE_MS }), 'https:': new https.Agent({ keepAlive: true, timeout: IDLE_MS }) }

/** A kept-alive socket the server closed while idle: the request never reached it, so it is sent again once. */
const staleSocket = (req: http.ClientRequest, error: NodeJS.ErrnoException) =>
  req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')

type FetchInit = Pick<RequestInit, 'method' | 'headers' | 'body' | 'signal'>

export function nodeFetch(input: string | URL | Request, init: FetchInit = {}, extraSignal?: AbortSignal, retried = false): Promise<Response> {
  const url = new URL(typeof input === 'string' || input instanceof URL ? input : input.url)
  const signals = [init.signal, extraSignal].filter((s): s is AbortSignal => !!s)
  return new Promise((resolve, reject) => {
    const aborted = signals.find(s => s.aborted)
    if (aborted) return reject(aborted.reason)
    const client = url.protocol === 'https:' ? https : http
    let answered = false
    let reason: unknown
    const req = client.request(url, {
      method: init.method ?? 'GET',
      headers: init.headers as http.OutgoingHttpHeaders | undefined,
      agent: agents[url.protocol as keyof typeof agents],
    }, (res) => { answered = true; resolve(responseOf(res, () => reason)) })
    const onAbort = function (this: AbortSignal) { reason ??= this.reason; req.destroy() }
    for (const s of signals) s.addEventListener('abort', onAbort, { once: true })
    req.once('close', () => { for (const s of signals) s.removeEventListener('abort', onAbort) })
    // before the answer's head: aborted → the signal's reason, anything else → fetch's connection failure
    req.once('error', (error: NodeJS.ErrnoException) => {
      if (!answered && reason === undefined && !retried && staleSocket(req, error)) resolve(nodeFetch(input, init, extraSignal, true))
      else reject(reason ?? new TypeError('fetch failed', { cause: error }))
    })
    req.end(typeof init.body === 'string' ? init.body : undefined)
  })
}

/** The parts of a Response that ollama-js reads; `abortReason` is what a read rejects with after an abort. */
function responseOf(res: http.IncomingMessage, abortReason: () => unknown): Response {
  const status = res.statusCode ?? 0
  const reader = bodyReader(res, abortReason)
  const text = async () => {
    const decoder = new TextDecoder()
    let out = ''
    for (let next = await reader.read(); !next.done; next = await reader.read()) out += decoder.decode(next.value, { stream: true })
    return out + decoder.decode()
  }
  return {
    ok: status >= 200 && status < 300,
    status,
    statusText: res.statusMessage ?? '',
    headers: { get: (name: string) => { const v = res.headers[name.toLowerCase()]; return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v } },
    body: { getReader: () => reader },
    text,
    json: async () => JSON.parse(await text()),
  } as unknown as Response
}

/**
 * Chunks held for the reader before the socket is paused. Not 1: ollama-js stops reading at the `done` line, before
 * the response's end; a response paused there never ends, so its socket never went back to the keep-alive pool and
 * every model request opened a new connection (up to 3 ms before the first token).
 */
const HIGH_WATER = 16

/** A web-stream-shaped reader over a Node response: one waiting read at a time, the socket paused while full. */
function bodyReader(res: http.IncomingMessage, abortReason: () => unknown) {
  const queue: Buffer[] = []
  let waiting: { resolve: (r: ReadableStreamReadResult<Uint8Array>) => void, reject: (e: unknown) => void } | undefined
  let ended = false
  let failure: unknown
  const settle = () => {
    if (!waiting) return
    const w = waiting
    if (queue.length) { waiting = undefined; w.resolve({ done: false, value: queue.shift()! }) }
    else if (failure !== undefined) { waiting = undefined; w.reject(failure) }
    else if (ended) { waiting = undefined; w.resolve({ done: true, value: undefined }) }
  }
  res.on('data', (chunk: Buffer) => {
    queue.push(chunk)
    if (!waiting && queue.length >= HIGH_WATER) res.pause()
    settle()
  })
  res.once('end', () => { ended = true; settle() })
  res.once('close', () => {
    if (ended) return
    failure ??= abortReason() ?? new TypeError('terminated', { cause: Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }) })
    settle()
  })
  res.once('error', (error) => { failure ??= abortReason() ?? new TypeError('terminated', { cause: error }); settle() })
  return {
    read(): Promise<ReadableStreamReadResult<Uint8Array>> {
      if (queue.length) {
        const value = queue.shift()!
        if (queue.length < HIGH_WATER && res.isPaused()) res.resume()
        return Promise.resolve({ done: false, value })
      }
      if (failure !== undefined) return Promise.reject(failure)
      if (ended) return Promise.resolve({ done: true, value: undefined })
      return new Promise((resolve, reject) => {
        waiting = { resolve, reject }
        res.resume()
      })
    },
    releaseLock() {},
  }
}
