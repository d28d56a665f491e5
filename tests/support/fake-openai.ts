import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { type Behaviour, DEFAULT_MODELS, defaultBehaviour, type FakeModel, type RecordedRequest } from './fake-ollama'

/**
 * A stand-in for an OpenAI-compatible model server (vLLM, LiteLLM, llama.cpp): a real HTTP server speaking
 * `GET /v1/models` and streamed `POST /v1/chat/completions` (SSE `data:` lines, a usage chunk when
 * `stream_options.include_usage`, `data: [DONE]`; tool calls as `delta.tool_calls` whose `arguments` come in
 * fragments). Same knobs as the fake Ollama (`set`, `once`, `reset`, `waitFor`, `requests`); with `apiKey` set,
 * a request without `Authorization: Bearer <apiKey>` gets 401.
 */

export interface FakeOpenAiOptions { port?: number, host?: string, models?: FakeModel[], behaviour?: Partial<Behaviour>, apiKey?: string }

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))

/** The request's tool results with the name of the call each answers (OpenAI links them by `tool_call_id`). */
export function openAiToolResultsOf(body: any): Array<{ name: string, result: any }> {
  const names = new Map<string, string>()
  for (const m of body?.messages ?? []) for (const call of m.tool_calls ?? []) names.set(call.id, call.function?.name)
  return (body?.messages ?? []).filter((m: any) => m.role === 'tool').map((m: any) => ({ name: names.get(m.tool_call_id) ?? '?', result: JSON.parse(m.content) }))
}

export class FakeOpenAi {
  behaviour: Behaviour = defaultBehaviour()
  models: FakeModel[]
  requests: RecordedRequest[] = []
  /** Requests refused for a missing or wrong key. */
  unauthorized = 0
  private queued: Partial<Behaviour>[] = []
  private server: Server
  private sockets = new Set<import('node:net').Socket>()
  /** The base URL (ends in `/v1`), as an `openai+` pool entry names it. */
  url = ''

  constructor(private options: FakeOpenAiOptions = {}) {
    this.models = options.models ?? DEFAULT_MODELS
    Object.assign(this.behaviour, options.behaviour)
    this.server = createServer((req, res) => { this.handle(req, res).catch(() => res.destroy()) })
    this.server.on('connection', (socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
  }

  async start() {
    await new Promise<void>(resolve => this.server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', resolve))
    const { port } = this.server.address() as AddressInfo
    this.url = `http://${this.options.host ?? '127.0.0.1'}:${port}/v1`
    return this
  }

  async close() {
    for (const socket of this.sockets) socket.destroy()
    await new Promise(resolve => this.server.close(resolve))
  }

  set(change: Partial<Behaviour>) { Object.assign(this.behaviour, change); return this }
  once(change: Partial<Behaviour>) { this.queued.push(change); return this }
  reset() { this.behaviour = { ...defaultBehaviour(), ...this.options.behaviour }; this.queued = []; this.requests = []; this.unauthorized = 0; return this }

  get chatRequests() { return this.requests.filter(r => r.path === '/v1/chat/completions') }
  get listRequests() { return this.requests.filter(r => r.path === '/v1/models') }

  async waitFor(predicate: (requests: RecordedRequest[]) => boolean, timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs
    while (!predicate(this.requests)) {
      if (Date.now() > deadline) throw new Error(`fake-openai: condition not met within ${timeoutMs} ms`)
      await sleep(10)
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '/').split('?')[0]!
    let raw = ''
    for await (const chunk of req) raw += chunk
    let body: any = null
    try { body = raw ? JSON.parse(raw) : null }
    catch { return json(res, 400, { error: { message: 'invalid JSON', type: 'invalid_request_error' } }) }
    if (this.options.apiKey && req.headers.authorization !== `Bearer ${this.options.apiKey}`) {
      this.unauthorized++
      return json(res, 401, { error: { message: 'Incorrect API key provided', type: 'invalid_request_error', code: 'invalid_api_key' } })
    }
    const record: RecordedRequest = { method: req.method ?? 'GET', path, body, at: Date.now(), endedAt: null, aborted: false, completed: false, dropped: false, tokensSent: 0 }
    this.requests.push(record)
    res.on('close', () => {
      record.endedAt = Date.now()
      if (!res.writableFinished && !record.dropped) record.aborted = true
    })
    if (req.method === 'GET' && path === '/v1/models') {
      json(res, 200, { object: 'list', data: this.models.map(m => ({ id: m.name, object: 'model', created: 1735689600, owned_by: 'fake' })) })
      record.completed = true
      return
    }
    if (req.method === 'POST' && path === '/v1/chat/completions') return this.chat(res, body, record)
    json(res, 404, { error: { message: 'not found' } })
    record.completed = true
  }

  private async chat(res: ServerResponse, body: any, record: RecordedRequest) {
    const b: Behaviour = { ...this.behaviour, ...this.queued.shift() }
    const gone = () => res.destroyed || record.aborted
    if (b.hang) return
    if (b.firstTokenDelayMs) await sleep(b.firstTokenDelayMs)
    if (gone()) return
    const finish = (write: () => void) => { write(); record.completed = true }
    if (b.errorStatus) return finish(() => json(res, b.errorStatus!, { error: { message: b.errorMessage, type: 'server_error' } }))
    const model = String(body?.model ?? '')
    if (!this.models.some(m => m.name === model))
      return finish(() => json(res, 404, { error: { message: `The model \`${model}\` does not exist.`, type: 'invalid_request_error', code: 'model_not_found' } }))
    const id = `chatcmpl-fake${record.at}`
    const created = Math.floor(record.at / 1000)
    const chunk = (delta: object, finishReason: string | null = null) =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] })}\n\n`
    const promptTokens = Math.ceil(JSON.stringify(body?.messages ?? []).length / 4)
    const usage = (completion: number) => body?.stream_options?.include_usage
      ? `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: { prompt_tokens: promptTokens, completion_tokens: completion, total_tokens: promptTokens + completion } })}\n\n`
      : ''
    const tokens = b.reply ? b.reply(body).match(/\s*\S+/g) ?? []
      : b.tokenCount === null ? b.tokens : Array.from({ length: b.tokenCount }, (_, i) => `tok${i} `)
    const calls = Array.isArray(body?.tools) && body.tools.length ? b.toolCalls?.(body) ?? [] : []
    if (body?.stream !== true) {
      return finish(() => json(res, 200, {
        id, object: 'chat.completion', created, model,
        choices: [{ index: 0, message: { role: 'assistant', content: tokens.join('') }, finish_reason: 'stop' }],
        usage: { prompt_tokens: promptTokens, completion_tokens: tokens.length, total_tokens: promptTokens + tokens.length },
      }))
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' })
    const write = async (text: string) => { if (!res.write(text)) await new Promise(resolve => res.once('drain', resolve)) }
    // vLLM and LiteLLM open with an empty assistant delta
    await write(chunk({ role: 'assistant', content: '' }))
    if (calls.length) {
      // each call: id and name first, then its arguments in three fragments (as real servers stream them)
      for (const [index, call] of calls.entries()) {
        await write(chunk({ tool_calls: [{ index, id: `call_fake_${index}`, type: 'function', function: { name: call.name, arguments: '' } }] }))
        const text = JSON.stringify(call.arguments)
        const cut = [0, Math.floor(text.length / 3), Math.floor((2 * text.length) / 3), text.length]
        for (let i = 0; i < 3; i++) await write(chunk({ tool_calls: [{ index, function: { arguments: text.slice(cut[i], cut[i + 1]) } }] }))
      }
      return finish(() => res.end(`${chunk({}, 'tool_calls')}${usage(calls.length)}data: [DONE]\n\n`))
    }
    const drop = () => { record.dropped = true; if (res.socket) res.socket.end(); else res.destroy() }
    for (const [i, t] of tokens.entries()) {
      if (b.dropAfter !== null && i >= b.dropAfter) return drop()
      if (b.errorAfter !== null && i >= b.errorAfter) return finish(() => res.end(`data: ${JSON.stringify({ error: { message: b.errorMessage, type: 'server_error' } })}\n\n`))
      if (b.delayMs) await sleep(b.delayMs)
      if (gone()) return
      await write(chunk({ content: t }))
      record.tokensSent++
    }
    if (b.dropAfter !== null && tokens.length >= b.dropAfter) return drop()
    finish(() => res.end(`${chunk({}, 'stop')}${usage(tokens.length)}data: [DONE]\n\n`))
  }
}

function json(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' })
  res.end(JSON.stringify(body))
}

export const startFakeOpenAi = (options?: FakeOpenAiOptions) => new FakeOpenAi(options).start()
