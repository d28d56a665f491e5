import { connectRedis } from './redis'
import { leaseMs } from '../services/coordination'
import { redisLoadTracker } from '../services/model/load-redis'
import { classifyModelError, type LoadTracker, ModelPool } from '../services/model/pool'
import { onShutdown } from '../services/shutdown'
import type { ModelInfo } from '../services/model/types'

export type { ModelInfo }

let pool: ModelPool | undefined
let load: LoadTracker | undefined

/**
 * Replaces the pool's in-flight counter (answers per server in this process) — e.g. one shared through Redis.
 * Call it before the pool's first use (a server plugin); later calls are refused.
 */
export function useModelLoadTracker(tracker: LoadTracker) {
  if (pool) throw new Error('the model pool is already running: set its load tracker at start-up')
  load = tracker
}

/** With REDIS_URL the answers in flight are counted across processes (model/load-redis.ts); else in this one. */
function sharedLoad(redisUrl: string | undefined): LoadTracker | undefined {
  if (!redisUrl) return undefined
  const redis = connectRedis(redisUrl, { maxRetriesPerRequest: 2 })
  redis.on('error', () => {})
  const tracker = redisLoadTracker(redis, leaseMs())
  onShutdown(() => { void tracker.close().finally(() => redis.disconnect()) })
  return tracker
}

/**
 * The pool of model servers (`OLLAMA_HOSTS`, else `OLLAMA_HOST`), started on first use. Hosts come from the
 * server's configuration, never from a request.
 */
export function useModelPool(): ModelPool {
  if (!pool) {
    const config = useConfig()
    load ??= sharedLoad(config.redisUrl)
    pool = ModelPool.fromHosts(config.modelHosts, config.openaiApiKey, { checkMs: config.modelCheckMs, describe: modelErrorText, load })
    pool.start()
  }
  return pool
}

/**
 * The models the healthy servers have, from the pool's cache (refreshed in the background, and at once when a
 * `wanted` name is missing or no server is known healthy); throws when no model server can be reached.
 */
export function listModels(wanted?: Array<string | null | undefined>): Promise<ModelInfo[]> {
  return useModelPool().models(wanted)
}

/** True when some model server answers. */
export function ollamaReachable(): Promise<boolean> {
  return useModelPool().reachable()
}

/**
 * A short reason for logs, the client and Admin → Modelo; never includes prompts or answers. English: the UI words
 * Admin → Modelo's from the code (`classifyModelError`, `lastErrorReason`), built from the same fields as this text.
 */
export function modelErrorText(error: unknown) {
  const info = classifyModelError(error)
  if (info.reason === 'http-status') return `the model server answered ${info.status}: ${info.detail}`
  if (info.reason === 'unreachable') return `the model server cannot be reached (${info.code})`
  if (info.reason === 'timeout') return 'the model server did not answer in time'
  return String((error as { message?: string })?.message ?? error).slice(0, 200)
}
