import { ollamaBackend } from './ollama'
import { openaiBackend } from './openai'
import { displayUrl, type HostEntry } from './hosts'
import type { BackendKind, ModelBackend, ModelChatRequest, ModelChunk, ModelInfo, ModelStream } from './types'
import type { ModelErrorReason } from '#shared/types'

/**
 * Answers in flight per server. In one process a counter; with REDIS_URL one shared through Redis
 * (load-redis.ts: a local mirror, since `load` is read on every pick and must not wait).
 */
export interface LoadTracker {
  load: (serverId: string) => number
  /** Counts one answer on the server; the returned function ends it (idempotent). */
  begin: (serverId: string) => () => void
}

export function localLoadTracker(): LoadTracker {
  const counts = new Map<string, number>()
  return {
    load: id => counts.get(id) ?? 0,
    begin(id) {
      counts.set(id, (counts.get(id) ?? 0) + 1)
      let ended = false
      return () => {
        if (ended) return
        ended = true
        counts.set(id, Math.max(0, (counts.get(id) ?? 1) - 1))
      }
    },
  }
}

export type ServerHealth = 'unknown' | 'healthy' | 'down'

/**
 * Why a model server failed, as a stable code (the UI words it; `lastError` keeps the English text): `unreachable`
 * (no connection; `code` is the socket's, e.g. ECONNREFUSED), `http-status` (it answered an error; `status` and the
 * server's own `detail`), `timeout` (no answer in time), `other` (anything else: only the text says it).
 */
export interface ModelErrorInfo {
  reason: ModelErrorReason
  status: number | null
  code: string | null
  detail: string | null
}

export function classifyModelError(error: unknown): ModelErrorInfo {
  const e = error as { name?: string, status_code?: number, message?: string, cause?: { code?: string } }
  if (e?.status_code) return { reason: 'http-status', status: e.status_code, code: null, detail: String(e.message ?? '').slice(0, 200) }
  if (e?.cause?.code) return { reason: 'unreachable', status: null, code: String(e.cause.code), detail: null }
  if (e?.name === 'TimeoutError') return { reason: 'timeout', status: null, code: null, detail: null }
  return { reason: 'other', status: null, code: null, detail: null }
}

const noError: ModelErrorInfo = { reason: 'other', status: null, code: null, detail: null }

interface Server {
  id: string
  backend: ModelBackend
  state: ServerHealth
  lastError: string | null
  /** Set together with lastError (null when lastError is). */
  lastErrorInfo: ModelErrorInfo | null
  lastCheckAt: Date | null
  /** The last model list the server gave (kept while it is down, for "it had this model"). */
  models: ModelInfo[] | null
  failures: number
  checking: Promise<void> | null
  timer: ReturnType<typeof setTimeout> | null
}

/** What Admin → Modelo shows per server. */
export interface ServerStatus {
  id: string
  kind: BackendKind
  url: string
  state: ServerHealth
  lastError: string | null
  lastErrorReason: ModelErrorReason | null
  lastErrorStatus: number | null
  lastErrorCode: string | null
  lastErrorDetail: string | null
  lastCheckAt: string | null
  models: string[]
  load: number
}

export interface PoolOptions {
  /** How often a healthy server's model list is refreshed (ms); a down one is retried with back-off up to 3×. */
  checkMs: number
  /** A model list request slower than this counts as a failure. */
  listTimeoutMs?: number
  load?: LoadTracker
  /** Short reason for an error (no prompts), for lastError. */
  describe?: (error: unknown) => string
}

function errorFields(info: ModelErrorInfo | null) {
  return {
    lastErrorReason: info?.reason ?? null,
    lastErrorStatus: info?.status ?? null,
    lastErrorCode: info?.code ?? null,
    lastErrorDetail: info?.detail ?? null,
  }
}

/** True for failures that say the server itself is gone (no connection, reset, timeout), not a refusal. */
export function isConnectionFailure(error: unknown) {
  const e = error as { status_code?: number, name?: string, message?: string, cause?: { code?: string } }
  if (e?.status_code !== undefined) return false
  if (e?.cause?.code || e?.name === 'TimeoutError' || e?.name === 'AbortError') return true
  return /fetch failed|terminated|closed the stream|other side closed|socket|ECONN/i.test(String(e?.message ?? ''))
}

/**
 * The pool of model servers (issue #14): each answer goes to the least-busy healthy server that has the model.
 * Model lists are checked in the background and cached — no list request per chat; a list is refreshed at once
 * on a miss (a model nobody lists) or when no server is healthy. A server that fails is marked down and retried
 * with back-off; an answer that fails before its first chunk is retried once on another server.
 */
export class ModelPool {
  readonly servers: Server[]
  readonly load: LoadTracker
  private rotation = 0
  private lastMissRefresh = 0
  private started = false
  private stopped = false

  constructor(backends: ModelBackend[], private options: PoolOptions) {
    this.load = options.load ?? localLoadTracker()
    this.servers = backends.map((backend, i) => ({
      id: `${i}`,
      backend,
      state: 'unknown',
      lastError: null,
      lastErrorInfo: null,
      lastCheckAt: null,
      models: null,
      failures: 0,
      checking: null,
      timer: null,
    }))
  }

  static fromHosts(entries: HostEntry[], apiKey: string | undefined, options: PoolOptions) {
    return new ModelPool(entries.map(e => (e.kind === 'openai' ? openaiBackend(e.url, apiKey) : ollamaBackend(e.url))), options)
  }

  /** Starts the background checks (once); every server is checked now. */
  start() {
    if (this.started || this.stopped) return
    this.started = true
    for (const server of this.servers) void this.check(server)
  }

  stop() {
    this.stopped = true
    for (const server of this.servers) if (server.timer) clearTimeout(server.timer)
  }

  describe(error: unknown) {
    return this.options.describe?.(error) ?? String((error as Error)?.message ?? error).slice(0, 200)
  }

  /** Records a server's last error: the text (`describe`) and its code (`classifyModelError`) together. */
  private setError(server: Server, error: unknown) {
    server.lastError = this.describe(error)
    server.lastErrorInfo = classifyModelError(error)
  }

  private clearError(server: Server) {
    server.lastError = null
    server.lastErrorInfo = null
  }

  /** Asks one server for its model list (deduplicated while one is running) and reschedules its next check. */
  check(server: Server): Promise<void> {
    if (server.checking) return server.checking
    if (server.timer) { clearTimeout(server.timer); server.timer = null }
    server.checking = (async () => {
      try {
        server.models = await server.backend.list(AbortSignal.timeout(this.options.listTimeoutMs ?? 3000))
        server.state = 'healthy'
        server.failures = 0
        this.clearError(server)
      }
      catch (error) {
        this.markDown(server, error)
      }
      finally {
        server.lastCheckAt = new Date()
        server.checking = null
        this.schedule(server)
      }
    })()
    return server.checking
  }

  private markDown(server: Server, error: unknown) {
    server.state = 'down'
    server.failures++
    this.setError(server, error)
  }

  private schedule(server: Server) {
    if (this.stopped || !this.started) return
    const { checkMs } = this.options
    const delay = server.state === 'down'
      ? Math.min(Math.min(1000, checkMs / 4) * 2 ** Math.min(server.failures - 1, 10), checkMs * 3)
      : checkMs
    if (server.timer) clearTimeout(server.timer)
    server.timer = setTimeout(() => { server.timer = null; void this.check(server) }, delay)
    server.timer.unref?.()
  }

  private refreshAll() {
    return Promise.all(this.servers.map(s => this.check(s)))
  }

  private has(server: Server, model: string) {
    return !!server.models?.some(m => m.name === model)
  }

  /**
   * The models of the healthy servers (union, first server's details win). Refreshes before answering when no
   * server is known healthy, or when a `wanted` model is missing (at most once a second). Throws when no
   * server answers.
   */
  async models(wanted: Array<string | null | undefined> = []): Promise<ModelInfo[]> {
    this.start()
    let healthy = this.servers.filter(s => s.state === 'healthy')
    if (!healthy.length) {
      await this.refreshAll()
    }
    else if (wanted.some(name => name && !healthy.some(s => this.has(s, name))) && Date.now() - this.lastMissRefresh > 1000) {
      this.lastMissRefresh = Date.now()
      await this.refreshAll()
    }
    healthy = this.servers.filter(s => s.state === 'healthy')
    if (!healthy.length) throw new Error(this.servers.find(s => s.lastError)?.lastError ?? 'no model server answers')
    const seen = new Map<string, ModelInfo>()
    for (const server of healthy) for (const m of server.models ?? []) if (!seen.has(m.name)) seen.set(m.name, m)
    return [...seen.values()]
  }

  /** True when some server answers (a fresh check, at most `withinMs`, when none is known healthy). */
  async reachable(withinMs = 1500): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<boolean>((resolve) => { timer = setTimeout(resolve, withinMs, false) })
    try { return await Promise.race([this.models().then(() => true, () => false), late]) }
    finally { clearTimeout(timer) }
  }

  status(): ServerStatus[] {
    return this.servers.map(s => ({
      id: s.id,
      kind: s.backend.kind,
      url: displayUrl(s.backend.url),
      state: s.state,
      lastError: s.lastError,
      ...errorFields(s.lastError === null ? null : (s.lastErrorInfo ?? noError)),
      lastCheckAt: s.lastCheckAt?.toISOString() ?? null,
      models: (s.models ?? []).map(m => m.name),
      load: this.load.load(s.id),
    }))
  }

  /**
   * The next server for `model`, not in `exclude`: healthy ones that list it first, then unchecked ones, then
   * down ones that had it (a chat doubles as a probe when nothing else is left), then healthy ones that do not
   * list it (it may have been pulled since). Within a tier the least loaded, ties taken in turn.
   */
  pick(model: string, exclude: Set<Server> = new Set()): Server | undefined {
    const tier = (s: Server) => {
      if (s.state === 'healthy') return this.has(s, model) ? 0 : 3
      if (s.state === 'unknown') return 1
      return s.models === null || this.has(s, model) ? 2 : 4
    }
    const turn = this.rotation++
    const n = this.servers.length
    let best: Server | undefined
    let bestKey: [number, number, number] | undefined
    for (const [i, s] of this.servers.entries()) {
      if (exclude.has(s)) continue
      const key: [number, number, number] = [tier(s), this.load.load(s.id), (i - turn % n + n) % n]
      if (!bestKey || key[0] < bestKey[0] || (key[0] === bestKey[0] && (key[1] < bestKey[1] || (key[1] === bestKey[1] && key[2] < bestKey[2])))) {
        best = s
        bestKey = key
      }
    }
    return best
  }

  /**
   * Opens a streamed answer on the best server and waits for its first chunk. When that fails (and the caller
   * did not abort) the answer is tried once more on another server; the error of the last try is thrown.
   */
  async open(request: ModelChatRequest): Promise<ModelStream> {
    this.start()
    const tried = new Set<Server>()
    let lastError: unknown
    for (let attempt = 0; attempt < 2; attempt++) {
      const server = this.pick(request.model, tried)
      if (!server) break
      tried.add(server)
      try {
        return await this.openOn(server, request)
      }
      catch (error) {
        lastError = error
        if (request.signal.aborted) throw error
        this.failed(server, error)
      }
    }
    throw lastError ?? new Error('no model server is configured')
  }

  /** A failure while talking to a server: down when the connection failed; a refusal only triggers a fresh list. */
  private failed(server: Server, error: unknown) {
    if (isConnectionFailure(error)) {
      this.markDown(server, error)
      server.lastCheckAt = new Date()
      this.schedule(server)
    }
    else {
      this.setError(server, error)
      void this.check(server)
    }
  }

  private async openOn(server: Server, request: ModelChatRequest): Promise<ModelStream> {
    const end = this.load.begin(server.id)
    let stream: ModelStream
    let iterator: AsyncIterator<ModelChunk>
    let first: IteratorResult<ModelChunk>
    try {
      stream = await server.backend.chat(request)
      iterator = stream[Symbol.asyncIterator]()
      first = await iterator.next()
    }
    catch (error) {
      end()
      throw error
    }
    if (server.state !== 'healthy') {
      // it answered: usable again at once; a check refreshes its list and timer
      Object.assign(server, { state: 'healthy', failures: 0 })
      this.clearError(server)
      void this.check(server)
    }
    // a plain iterator, not an async generator: every token passes here, and a generator layer costs several
    // promise hops per token; the first chunk (already read) is handed out first
    let held: IteratorResult<ModelChunk> | undefined = first
    const pass = (next: IteratorResult<ModelChunk>) => { if (next.done) end(); return next }
    const fail = (error: unknown): never => {
      end()
      // after the first chunk the answer is not retried (tokens were shown): the server is checked again
      if (!request.signal.aborted) { this.setError(server, error); void this.check(server) }
      throw error
    }
    const chunks: AsyncIterableIterator<ModelChunk> = {
      next: () => {
        if (!held) return iterator.next().then(pass, fail)
        const next = held
        held = undefined
        return Promise.resolve(pass(next))
      },
      // the caller stopped reading (break): the server's count ends; `abort()` closes the connection
      return: (value?: unknown) => { end(); return Promise.resolve({ done: true, value }) },
      [Symbol.asyncIterator]: () => chunks,
    }
    return {
      [Symbol.asyncIterator]: () => chunks,
      abort: () => { stream.abort(); end() },
    }
  }
}
