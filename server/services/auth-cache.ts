import type { Redis } from 'ioredis'
import { connectRedis } from '../utils/redis'
import type { Session } from '../db/schema'
import type { Viewer } from './access'
import { onShutdown } from './shutdown'

/**
 * Signed-in requests remembered for a few seconds: the session row and the user with their effective permissions,
 * by session cookie. Every request used to read them (a join and a roles query: most of `/api/auth/me`'s CPU).
 *
 * Correctness: every write that can change what a cached entry says (a session revoked, a user changed, deactivated
 * or deleted, a role granted, edited or removed) calls `forgetAuth()` after it is committed, which empties the cache
 * here and, with REDIS_URL, in every other app process (one pub/sub message). A read that was already running when
 * the write committed is not stored (the generation moved on). Expiry, the 90-day cap and the sliding write are
 * still checked on every hit from the cached row. Writes made outside the app (SQL by hand, scripts/create-admin.mjs)
 * are seen within AUTH_CACHE_MS (default 5 s). Without Redis, a process that shares its database with another
 * (ALLOW_SHARED_DATABASE=1) cannot hear the other's writes, so it does not cache at all.
 */

export interface CachedAuth { session: Session, user: Viewer }

const CHANNEL = 'energyapp:auth-changed'
const MAX_ENTRIES = 5000
const entries = new Map<string, CachedAuth & { at: number }>()
let generation = 0
let ttl: number | undefined
let redis: { publisher: Redis, subscriber: Redis } | undefined

/** Called at start-up so that the Redis subscription is live before the first signed-in request. */
export const startAuthCache = () => { ttlMs() }

function ttlMs(): number {
  if (ttl !== undefined) return ttl
  const { redisUrl, authCacheMs, allowSharedDatabase } = useConfig()
  ttl = authCacheMs
  if (!redisUrl && allowSharedDatabase) ttl = 0
  if (ttl && redisUrl) listen(redisUrl)
  return ttl
}

function listen(url: string) {
  const publisher = connectRedis(url, { maxRetriesPerRequest: 2 })
  const subscriber = connectRedis(url)
  publisher.on('error', () => {})
  subscriber.on('error', () => {})
  // whatever was missed while the subscription was down is forgotten when it is back
  subscriber.on('ready', () => clearHere())
  subscriber.on('message', () => clearHere())
  void subscriber.subscribe(CHANNEL).catch(() => {})
  redis = { publisher, subscriber }
  onShutdown(() => {
    publisher.disconnect()
    subscriber.disconnect()
  })
}

function clearHere() {
  generation++
  entries.clear()
}

/** Nothing is cached while another process's invalidations could be missed (Redis subscription not live). */
const usable = () => ttlMs() > 0 && (!redis || redis.subscriber.status === 'ready')

/** The generation to hand to `rememberAuth` for a read starting now. */
export const authGeneration = () => generation

export function cachedAuth(key: string): CachedAuth | undefined {
  if (!usable()) return undefined
  const entry = entries.get(key)
  if (!entry) return undefined
  if (Date.now() - entry.at >= ttlMs()) {
    entries.delete(key)
    return undefined
  }
  // callers get their own copies: nothing a route does to them reaches the next request
  return { session: { ...entry.session }, user: { ...entry.user } }
}

/** Stores what a read that started at generation `since` found, unless something changed meanwhile. */
export function rememberAuth(key: string, since: number, value: CachedAuth) {
  if (since !== generation || !usable()) return
  if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value!)
  entries.set(key, { session: { ...value.session }, user: { ...value.user }, at: Date.now() })
}

export const dropAuth = (key: string) => { entries.delete(key) }

/** After a committed write to sessions, users, roles or user roles: forget every cached sign-in, here and elsewhere. */
export async function forgetAuth() {
  clearHere()
  if (!redis) return
  // awaited (briefly) so that the answer to a sign-out leaves after the other processes were told; with Redis down
  // their subscriptions are down too, and they cache nothing until they are back (then they start empty)
  let timer: NodeJS.Timeout | undefined
  const told = redis.publisher.publish(CHANNEL, '1').then(() => {}, () => {})
  await Promise.race([told, new Promise((resolve) => { timer = setTimeout(resolve, PUBLISH_WAIT_MS) })])
  clearTimeout(timer)
}
const PUBLISH_WAIT_MS = 1_000
