import type { Redis } from 'ioredis'
import type { Rate } from './config'
import { keyedQueue } from './keyed-queue'

/**
 * Fixed-window counters. Every change is atomic: checking and counting one event is a single step, so a burst
 * of concurrent requests cannot all read "under the limit" before any of them counts (a get-then-set race).
 * In-process (memory store) the steps of one key run one after another; with REDIS_URL each step is one Lua
 * script on the Redis server, atomic across app processes.
 */
interface Counter {
  /** Seconds to wait when `rate` is used up, else 0. */
  wait: (key: string, rate: Rate) => Promise<number>
  /** Counts one event unless the limit is reached; returns the seconds to wait (nothing counted) or 0 (counted). */
  take: (key: string, rate: Rate) => Promise<number>
  /** Counts one event whatever the count. */
  hit: (key: string, rate: Rate) => Promise<void>
  /** Gives back one counted event. */
  refund: (key: string) => Promise<void>
  reset: (key: string) => Promise<void>
}

interface Window { count: number, resetAt: number }

const secondsUntil = (at: number) => Math.max(1, Math.ceil((at - Date.now()) / 1000))

// per-key promise chains: the steps of one key never interleave in this process
const serial = keyedQueue()

/** The shared store (memory by default): windows stored as `{count, resetAt}` values under `rl:<key>`. */
function storeCounter(): Counter {
  const kv = useKv()
  const read = async (key: string) => {
    const w = await kv.getItem<Window>(`rl:${key}`)
    return w && w.resetAt > Date.now() ? w : null
  }
  const write = (key: string, w: Window) => kv.setItem(`rl:${key}`, w, { ttl: secondsUntil(w.resetAt) })
  const next = (w: Window | null, rate: Rate): Window => w ? { ...w, count: w.count + 1 } : { count: 1, resetAt: Date.now() + rate.windowMs }
  return {
    wait: async (key, rate) => {
      const w = await read(key)
      return w && w.count >= rate.max ? secondsUntil(w.resetAt) : 0
    },
    take: (key, rate) => serial(key, async () => {
      const w = await read(key)
      if (w && w.count >= rate.max) return secondsUntil(w.resetAt)
      await write(key, next(w, rate))
      return 0
    }),
    hit: (key, rate) => serial(key, async () => { await write(key, next(await read(key), rate)) }),
    refund: key => serial(key, async () => {
      const w = await read(key)
      if (w && w.count > 0) await write(key, { ...w, count: w.count - 1 })
    }),
    reset: key => serial(key, () => kv.removeItem(`rl:${key}`)),
  }
}

// KEYS[1] counter; ARGV[1] window ms; ARGV[2] limit (take only). Returns ms to wait, or 0 when counted.
const TAKE = `local c = tonumber(redis.call('GET', KEYS[1]) or '0')
if c >= tonumber(ARGV[2]) then local t = redis.call('PTTL', KEYS[1]) if t < 1 then t = 1 end return t end
c = redis.call('INCR', KEYS[1])
if c == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return 0`
const HIT = `if redis.call('INCR', KEYS[1]) == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end return 0`
const REFUND = `local c = tonumber(redis.call('GET', KEYS[1]) or '0') if c > 0 then redis.call('DECR', KEYS[1]) end return 0`

/** Redis: one integer per window (INCR + PEXPIRE), every step a single script. */
function redisCounter(redis: Redis): Counter {
  const k = (key: string) => `energyapp:rlc:${key}`
  return {
    wait: async (key, rate) => {
      const [count, ttl] = await Promise.all([redis.get(k(key)), redis.pttl(k(key))])
      return Number(count ?? 0) >= rate.max ? Math.max(1, Math.ceil(ttl / 1000)) : 0
    },
    take: async (key, rate) => {
      const ms = Number(await redis.eval(TAKE, 1, k(key), rate.windowMs, rate.max))
      return ms > 0 ? Math.max(1, Math.ceil(ms / 1000)) : 0
    },
    hit: async (key, rate) => { await redis.eval(HIT, 1, k(key), rate.windowMs) },
    refund: async (key) => { await redis.eval(REFUND, 1, k(key)) },
    reset: async (key) => { await redis.del(k(key)) },
  }
}

let counter: Counter | undefined
function useCounter(): Counter {
  if (counter) return counter
  // the redis driver of the shared store hands out its ioredis client
  const driver = useKv().getMount('rl:').driver as { getInstance?: () => Redis }
  counter = useConfig().redisUrl && driver.getInstance ? redisCounter(driver.getInstance()) : storeCounter()
  return counter
}

export const rateLimitWait = (key: string, rate: Rate) => useCounter().wait(key, rate)
export const rateLimitTake = (key: string, rate: Rate) => useCounter().take(key, rate)
export const rateLimitHit = (key: string, rate: Rate) => useCounter().hit(key, rate)
export const rateLimitRefund = (key: string) => useCounter().refund(key)
export const rateLimitReset = (key: string) => useCounter().reset(key)

/** 429 with Retry-After. */
export function tooManyRequests(event: import('h3').H3Event, seconds: number, what = 'Too many attempts') {
  setResponseHeader(event, 'Retry-After', seconds)
  logRateLimited(clientIp(event), event.path.split('?')[0]!)
  return createError({ statusCode: 429, message: `${what}, try again in ${seconds} s`, data: { retryAfter: seconds } })
}

/** Checks and counts in one atomic step: throws 429 when over. */
export async function enforceRateLimit(event: import('h3').H3Event, key: string, rate: Rate, what?: string) {
  const wait = await rateLimitTake(key, rate)
  if (wait) throw tooManyRequests(event, wait, what)
}
