import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A stand-in for Ollama: a real HTTP server speaking its wire format (`/api/chat` NDJSON streaming and
 * non-streaming, `/api/tags`, `/api/version`, `/api/show`), driven through the real `ollama` client by the app.
 * Knobs are set per test with `set()` (every later request) or `once()` (the next chat requests, in order).
 */

export interface FakeModel { name: string, size?: number, family?: string, parameterSize?: string }

export interface Behaviour {
  /** The chunks streamed as `message.content`; joined they are the answer. */
  tokens: string[]
  /** When set, this many generated tokens (`tok0 tok1 …`) replace `tokens`. */
  tokenCount: number | null
  /** When set, the answer is computed from the request body and streamed word by word. */
  reply: ((body: any) => string) | null
  /** Delay before each token (ms). */
  delayMs: number
  /** Delay before the response starts (ms): a model that is loading. */
  firstTokenDelayMs: number
  /** When set, the delay before the response starts, per request (e.g. only the title call is slow). */
  firstTokenDelayFor: ((body: any) => number) | null
  /** Never answer (until the client gives up). */
  hang: boolean
  /** Destroy the connection after this many tokens, without the final `done` line. */
  dropAfter: number | null
  /** Answer with this HTTP status and `{error: errorMessage}` instead of a stream. */
  errorStatus: number | null
  errorMessage: string
  /** Send `{error}` as an NDJSON line after this many tokens (what Ollama does when generation fails). */
  errorAfter: number | null
  /**
   * Scripted tool calls: when the request offers `tools` and this returns calls, the answer is one streamed chunk
   * whose `message.tool_calls` carries them (Ollama's wire format: `function.arguments` is an object), then the
   * final `done:true` line. Return null or [] to answer with text instead (e.g. after a `tool` message).
   */
  toolCalls: ((body: any) => FakeToolCall[] | null | undefined) | null
  /** When set, the answer waits for this promise before its first token (a test opens the gate when ready). */
  gate: Promise<unknown> | null
  /**
   * How many tokens stream before the answer waits at `gate` (0: before the first): an answer that is certainly
   * still streaming, with text on screen, until the test says so — instead of hoping a slow stream outlasts the test.
   */
  gateAfter: number
  /**
   * When set, the gate this request waits at before its response starts (null: none), e.g. only the title call:
   * the event-driven form of `firstTokenDelayFor`.
   */
  gateFor: ((body: any) => Promise<unknown> | null) | null
  /**
   * At most this many chat requests generate at once (like OLLAMA_NUM_PARALLEL); later ones wait, unanswered,
   * for a free place (FIFO). null: no limit. A model that is the bottleneck.
   */
  concurrency: number | null
}

export interface FakeToolCall { name: string, arguments: Record<string, unknown> }

/** The request's last message. */
export const lastMessageOf = (body: any): { role: string, content: string, tool_name?: string } | undefined => body?.messages?.at(-1)
/** The names of the tools a request offered. */
export const offeredToolsOf = (body: any): string[] => (body?.tools ?? []).map((t: any) => t.function?.name)
/** The parsed results of the request's tool messages, oldest first. */
export const toolResultsOf = (body: any): Array<{ name: string, result: any }> =>
  (body?.messages ?? []).filter((m: any) => m.role === 'tool').map((m: any) => ({ name: m.tool_name, result: JSON.parse(m.content) }))

export interface RecordedRequest {
  method: string
  path: string
  body: any
  at: number
  /** When the response ended or the connection closed. */
  endedAt: number | null
  /** The client closed the connection before the answer was complete. */
  aborted: boolean
  completed: boolean
  /** The fake cut the connection on purpose (`dropAfter`). */
  dropped: boolean
  /** Tokens written before the request ended. */
  tokensSent: number
}

export const DEFAULT_TOKENS = ['Hola', ',', ' soy', ' un', ' modelo', ' de', ' prueba', '.']
export const DEFAULT_MODELS: FakeModel[] = [
  { name: 'qwen2.5:3b-instruct', size: 1_929_912_432, family: 'qwen2', parameterSize: '3.1B' },
  { name: 'llama3.2:1b', size: 1_321_098_329, family: 'llama', parameterSize: '1.2B' },
]

export const defaultBehaviour = (): Behaviour => ({
  tokens: DEFAULT_TOKENS,
  tokenCount: null,
  reply: null,
  delayMs: 0,
  firstTokenDelayMs: 0,
  firstTokenDelayFor: null,
  hang: false,
  dropAfter: null,
  errorStatus: null,
  errorMessage: 'fake failure',
  errorAfter: null,
  toolCalls: null,
  gate: null,
  gateAfter: 0,
  gateFor: null,
  concurrency: null,
})

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

export interface FakeOllamaOptions { port?: number, host?: string, models?: FakeModel[], behaviour?: Partial<Behaviour> }

export class FakeOllama {
  behaviour: Behaviour = defaultBehaviour()
  models: FakeModel[]
  /** Every request received, oldest first. */
  requests: RecordedRequest[] = []
  private queued: Partial<Behaviour>[] = []
  private generating = 0
  private parked: Array<() => void> = []
  private server: Server
  private sockets = new Set<import('node:net').Socket>()
  /** TCP connections accepted since start or the last reset (a kept-alive client reuses one). */
  connections = 0
  url = ''

  constructor(private options: FakeOllamaOptions = {}) {
    this.models = options.models ?? DEFAULT_MODELS
    Object.assign(this.behaviour, options.behaviour)
    this.server = createServer((req, res) => { this.handle(req, res).catch(() => res.destroy()) })
    this.server.on('connection', (socket) => {
      this.connections++
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
  }

  async start() {
    await new Promise<void>(resolve => this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', resolve))
    const { port } = this.server.address() as AddressInfo
    this.url = `http://${this.options.host ?? '127.0.0.1'}:${port}`
    return this
  }

  async close() {
    for (const socket of this.sockets) socket.destroy()
    await new Promise(resolve => this.server.close(resolve))
  }

  /** Changes the behaviour of every later request. */
  set(change: Partial<Behaviour>) { Object.assign(this.behaviour, change); return this }
  /** Queues a behaviour for the next chat request only (call again for the one after). */
  once(change: Partial<Behaviour>) { this.queued.push(change); return this }
  /** A gate for `set`/`once({ gate })`: answers given it wait before their first token until `open()`. */
  gate() {
    let open!: () => void
    const gate = new Promise<void>((resolve) => { open = resolve })
    return { gate, open }
  }

  /** Back to defaults; forgets recorded requests and queued behaviours. */
  reset() { this.behaviour = { ...defaultBehaviour(), ...this.options.behaviour }; this.queued = []; this.requests = []; this.connections = 0; return this }

  get chatRequests() { return this.requests.filter(r => r.path === '/api/chat') }
  get aborted() { return this.requests.filter(r => r.aborted) }

  /** Resolves once `predicate` holds for the recorded requests (polls; rejects after `timeoutMs`). */
  async waitFor(predicate: (requests: RecordedRequest[]) => boolean, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs
    while (!predicate(this.requests)) {
      if (Date.now() > deadline) throw new Error(`fake-ollama: condition not met within ${timeoutMs} ms`)
      await sleep(10)
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0]!
    let raw = ''
    for await (const chunk of req) raw += chunk
    let body: any = null
    try { body = raw ? JSON.parse(raw) : null }
    catch { return json(res, 400, { error: 'invalid JSON' }) }
    const record: RecordedRequest = { method: req.method ?? 'GET', path, body, at: Date.now(), endedAt: null, aborted: false, completed: false, dropped: false, tokensSent: 0 }
    this.requests.push(record)
    res.on('close', () => {
      record.endedAt = Date.now()
      if (!res.writableFinished && !record.dropped) record.aborted = true
    })
    if (req.method === 'GET' && path === '/api/version') return this.finish(record, () => json(res, 200, { version: '0.0.0-fake' }))
    if (req.method === 'GET' && path === '/api/tags') return this.finish(record, () => json(res, 200, { models: this.models.map(tagEntry) }))
    if (req.method === 'POST' && path === '/api/show') return this.finish(record, () => this.show(res, body))
    if (req.method === 'POST' && path === '/api/chat') return this.chat(res, body, record)
    // a benchmark driving the CLI fake from another process changes plain knobs (delayMs, concurrency…) between phases
    if (req.method === 'POST' && path === '/_fake/set') return this.finish(record, () => { this.set(body ?? {}); json(res, 200, { ok: true }) })
    return this.finish(record, () => json(res, 404, { error: `404 page not found` }))
  }

  private finish(record: RecordedRequest, write: () => void) {
    write()
    record.completed = true
  }

  private show(res: ServerResponse, body: any) {
    const model = this.models.find(m => m.name === (body?.model ?? body?.name))
    if (!model) return json(res, 404, { error: `model '${body?.model ?? body?.name}' not found` })
    json(res, 200, {
      modelfile: `# fake model\nFROM ${model.name}`,
      parameters: 'temperature 0.7',
      template: '{{ .Prompt }}',
      details: details(model),
      model_info: { 'general.architecture': model.family ?? 'fake' },
      capabilities: ['completion'],
    })
  }

  private async chat(res: ServerResponse, body: any, record: RecordedRequest) {
    const b: Behaviour = { ...this.behaviour, ...this.queued.shift() }
    const gone = () => res.destroyed || record.aborted
    if (b.hang) return // the client aborts or times out; 'close' marks the record aborted
    const delay = b.firstTokenDelayFor?.(body) ?? b.firstTokenDelayMs
    if (delay) await sleep(delay)
    const held = b.gateFor?.(body)
    if (held) await held
    if (gone()) return
    if (b.concurrency !== null) {
      while (this.generating >= b.concurrency) await new Promise<void>(resolve => this.parked.push(resolve))
      if (gone()) return this.nextParked()
      this.generating++
      res.once('close', () => { this.generating--; this.nextParked() })
    }
    if (b.errorStatus) return this.finish(record, () => json(res, b.errorStatus!, { error: b.errorMessage }))
    const model = String(body?.model ?? '')
    if (!this.models.some(m => m.name === model))
      return this.finish(record, () => json(res, 404, { error: `model "${model}" not found, try pulling it first` }))
    const tokens = b.reply ? b.reply(body).match(/\s*\S+/g) ?? []
      : b.tokenCount === null ? b.tokens : Array.from({ length: b.tokenCount }, (_, i) => `tok${i} `)
    const started = process.hrtime.bigint()
    const promptEvalCount = Math.ceil(JSON.stringify(body?.messages ?? []).length / 4)
    const final = (evalCount: number) => ({
      model,
      created_at: new Date().toISOString(),
      message: { role: 'assistant', content: '' },
      done: true,
      done_reason: 'stop',
      total_duration: Number(process.hrtime.bigint() - started),
      load_duration: 1000,
      prompt_eval_count: promptEvalCount,
      prompt_eval_duration: 1000,
      eval_count: evalCount,
      eval_duration: Number(process.hrtime.bigint() - started),
    })
    const calls = Array.isArray(body?.tools) && body.tools.length ? b.toolCalls?.(body) ?? [] : []
    if (calls.length) return this.callTools(res, record, final, calls, model)
    if (body?.stream === false) {
      return this.finish(record, () => json(res, 200, { ...final(tokens.length), message: { role: 'assistant', content: tokens.join('') } }))
    }
    // end the socket (not destroy) so the tokens already written still reach the client before the cut
    const drop = () => { record.dropped = true; if (res.socket) res.socket.end(); else res.destroy() }
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    for (const [i, t] of tokens.entries()) {
      if (b.gate && i === b.gateAfter) await b.gate
      if (b.dropAfter !== null && i >= b.dropAfter) return drop()
      if (b.errorAfter !== null && i >= b.errorAfter) return this.finish(record, () => res.end(`${JSON.stringify({ error: b.errorMessage })}\n`))
      if (b.delayMs) await sleep(b.delayMs)
      if (gone()) return
      const line = { model, created_at: new Date().toISOString(), message: { role: 'assistant', content: t }, done: false }
      if (!res.write(`${JSON.stringify(line)}\n`)) await new Promise(resolve => res.once('drain', resolve))
      record.tokensSent++
    }
    if (b.gate && b.gateAfter >= tokens.length) await b.gate
    if (gone()) return
    if (b.dropAfter !== null && tokens.length >= b.dropAfter) return drop()
    this.finish(record, () => res.end(`${JSON.stringify(final(tokens.length))}\n`))
  }

  private nextParked() { this.parked.shift()?.() }

  /** A streamed tool-call answer, as Ollama sends it: one chunk carrying `message.tool_calls`, then `done`. */
  private callTools(res: ServerResponse, record: RecordedRequest, final: (evalCount: number) => object, calls: FakeToolCall[], model: string) {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' })
    const tool_calls = calls.map((call, index) => ({ id: `call_${index}`, function: { index, name: call.name, arguments: call.arguments } }))
    res.write(`${JSON.stringify({ model, created_at: new Date().toISOString(), message: { role: 'assistant', content: '', tool_calls }, done: false })}\n`)
    this.finish(record, () => res.end(`${JSON.stringify(final(calls.length))}\n`))
  }
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
  res.end(JSON.stringify(body))
}

function details(model: FakeModel) {
  const family = model.family ?? 'fake'
  return { parent_model: '', format: 'gguf', family, families: [family], parameter_size: model.parameterSize ?? '1B', quantization_level: 'Q4_K_M' }
}

function tagEntry(model: FakeModel) {
  return {
    name: model.name,
    model: model.name,
    modified_at: '2025-01-01T00:00:00Z',
    size: model.size ?? 1_000_000_000,
    digest: `fake${model.name.replace(/\W/g, '')}`.padEnd(64, '0').slice(0, 64),
    details: details(model),
  }
}

/** Starts a fake Ollama on a free port (tests) or the given one. */
export const startFakeOllama = (options?: FakeOllamaOptions) => new FakeOllama(options).start()
