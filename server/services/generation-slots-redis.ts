import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { GenerationSlots, Release, SlotOptions } from './generation-queue'

/**
 * The generation queue of all app processes, in Redis (REDIS_URL). Every step is one Lua script, so no two
 * processes ever read-then-write the queue between each other's steps.
 *
 * - `slots` (sorted set): the tickets holding a model slot, scored by their lease's end (ms, Redis clock).
 * - `waiting` (sorted set): the tickets waiting, scored by their lease's end; `owner` (hash) ticket → user.
 * - `users` (list): the round-robin order of users with a waiter; `line:<user>` (list) that user's tickets, FIFO.
 * - `gen:<user>` (string): the one-answer-per-user mark, with its own lease.
 *
 * Each process renews the leases of its tickets and marks every `leaseMs / 3` (and polls its waiters' places
 * every POLL_MS). A process killed with SIGKILL renews nothing: its slots, waiters and marks expire after
 * `leaseMs` and the next script run by any process frees them.
 */

const PREFIX = 'energyapp:gq:'
const KEYS = [`${PREFIX}slots`, `${PREFIX}waiting`, `${PREFIX}users`, `${PREFIX}owner`]
// how often a process with waiters asks for their places (a slot freed elsewhere is noticed within this)
const POLL_MS = 50

const LIB = `
local LINE = '${PREFIX}line:'
local function now_ms() local t = redis.call('TIME') return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) end
local function remove_waiter(t)
  local u = redis.call('HGET', KEYS[4], t)
  redis.call('ZREM', KEYS[2], t)
  redis.call('HDEL', KEYS[4], t)
  if u then
    redis.call('LREM', LINE .. u, 0, t)
    if redis.call('LLEN', LINE .. u) == 0 then redis.call('LREM', KEYS[3], 0, u) end
  end
end
local function purge(now)
  redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
  for _, t in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do remove_waiter(t) end
end
-- grants free slots round-robin: the user at the head of the rotation gets one and goes to the back
local function dispatch(now, limit, ttl)
  while redis.call('ZCARD', KEYS[1]) < limit do
    local u = redis.call('LPOP', KEYS[3])
    if not u then break end
    local t = redis.call('LPOP', LINE .. u)
    if t then
      redis.call('ZREM', KEYS[2], t)
      redis.call('HDEL', KEYS[4], t)
      redis.call('ZADD', KEYS[1], now + ttl, t)
    end
    if redis.call('LLEN', LINE .. u) > 0 then redis.call('RPUSH', KEYS[3], u) end
  end
end
-- 1-based place in the order of service (round r of every user's line, in rotation order); 0 granted; -1 gone
local function position(t)
  if redis.call('ZSCORE', KEYS[1], t) then return 0 end
  local u = redis.call('HGET', KEYS[4], t)
  if not u then return -1 end
  local mine = redis.call('LRANGE', LINE .. u, 0, -1)
  local i = 0
  for k, x in ipairs(mine) do if x == t then i = k - 1 break end end
  local pos, before = 0, true
  for _, v in ipairs(redis.call('LRANGE', KEYS[3], 0, -1)) do
    if v == u then
      before = false
      pos = pos + i
    else
      local n = redis.call('LLEN', LINE .. v)
      pos = pos + math.min(n, i)
      if before and n > i then pos = pos + 1 end
    end
  end
  return pos + 1
end
`

// ARGV: limit, ttl, user, ticket → 0 (slot granted) or the place in line
const ACQUIRE = `${LIB}
local now, limit, ttl, u, t = now_ms(), tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3], ARGV[4]
purge(now)
if redis.call('LLEN', KEYS[3]) == 0 and redis.call('ZCARD', KEYS[1]) < limit then
  redis.call('ZADD', KEYS[1], now + ttl, t)
  return 0
end
if redis.call('RPUSH', LINE .. u, t) == 1 then redis.call('RPUSH', KEYS[3], u) end
redis.call('ZADD', KEYS[2], now + ttl, t)
redis.call('HSET', KEYS[4], t, u)
dispatch(now, limit, ttl)
return position(t)`

// ARGV: limit, ttl, ticket — frees a slot or leaves the line, then lets waiters in
const RELEASE = `${LIB}
local now, limit, ttl, t = now_ms(), tonumber(ARGV[1]), tonumber(ARGV[2]), ARGV[3]
redis.call('ZREM', KEYS[1], t)
remove_waiter(t)
purge(now)
dispatch(now, limit, ttl)
return 0`

// ARGV: limit, ttl, then the tickets this process holds or waits with → renews their leases, returns each one's place
const TICK = `${LIB}
local now, limit, ttl = now_ms(), tonumber(ARGV[1]), tonumber(ARGV[2])
for k = 3, #ARGV do
  redis.call('ZADD', KEYS[1], 'XX', now + ttl, ARGV[k])
  redis.call('ZADD', KEYS[2], 'XX', now + ttl, ARGV[k])
end
purge(now)
dispatch(now, limit, ttl)
local out = {}
for k = 3, #ARGV do out[#out + 1] = position(ARGV[k]) end
return out`

// the per-user mark: only its holder renews or deletes it
const RENEW_MARK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0`
const DELETE_MARK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

interface Waiter {
  userId: string
  /** The turn has committed (meta sent): places may be announced, a granted slot handed over. */
  ready: Promise<void>
  announced: boolean
  resolve: (release: Release) => void
  reject: (error: unknown) => void
  onPosition?: (position: number) => void
  lastPosition: number
}

export function redisSlots(redis: Redis, leaseMs: number): GenerationSlots {
  const held = new Set<string>()
  const waiters = new Map<string, Waiter>()
  const marks = new Map<string, string>()
  let limit = 1
  const eval_ = (script: string, args: Array<string | number>) => redis.eval(script, KEYS.length, ...KEYS, ...args)

  const release = (ticket: string): Release => {
    let done: Promise<void> | undefined
    return () => {
      held.delete(ticket)
      return (done ??= eval_(RELEASE, [limit, leaseMs, ticket]).then(() => {}, () => {}))
    }
  }

  let ticking = false
  async function tick() {
    if (ticking || (!held.size && !waiters.size)) return
    ticking = true
    try {
      const tickets = [...held, ...waiters.keys()]
      const places = await eval_(TICK, [limit, leaseMs, ...tickets]) as number[]
      tickets.forEach((ticket, i) => {
        const waiter = waiters.get(ticket)
        if (!waiter) return
        const place = Number(places[i])
        if (place === 0) {
          waiters.delete(ticket)
          held.add(ticket)
          const granted = release(ticket)
          void waiter.ready.then(() => waiter.resolve(granted))
        }
        else if (place > 0 && waiter.announced && place !== waiter.lastPosition) {
          waiter.lastPosition = place
          waiter.onPosition?.(place)
        }
        // -1: its lease ran out (Redis unreachable for a whole lease): it queues again at the back
        else if (place < 0) {
          void eval_(ACQUIRE, [limit, leaseMs, waiter.userId, ticket]).catch(() => {})
        }
      })
    }
    catch {}
    finally { ticking = false }
  }
  const poll = setInterval(() => { if (waiters.size) void tick() }, POLL_MS)
  poll.unref()
  const renew = setInterval(() => {
    void tick()
    for (const [key, mark] of marks) void redis.eval(RENEW_MARK, 1, key, mark, leaseMs).catch(() => {})
  }, Math.max(100, Math.floor(leaseMs / 3)))
  renew.unref()

  return {
    async claimUser(userId) {
      const key = `${PREFIX}gen:${userId}`
      const mark = randomUUID()
      if (await redis.set(key, mark, 'PX', leaseMs, 'NX') !== 'OK') return null
      marks.set(key, mark)
      let done: Promise<void> | undefined
      return () => {
        if (marks.get(key) === mark) marks.delete(key)
        return (done ??= redis.eval(DELETE_MARK, 1, key, mark).then(() => {}, () => {}))
      }
    },

    async acquire(userId, { limit: max, beforeWait, signal, onPosition }: SlotOptions) {
      limit = max
      signal?.throwIfAborted()
      const ticket = randomUUID()
      const place = Number(await eval_(ACQUIRE, [limit, leaseMs, userId, ticket]))
      if (place === 0) {
        held.add(ticket)
        return release(ticket)
      }
      return new Promise<Release>((resolve, reject) => {
        // the turn commits (meta) before the first place is announced
        const ready = (beforeWait?.() ?? Promise.resolve()).catch(() => {})
        const waiter: Waiter = { userId, ready, announced: false, resolve, reject, onPosition, lastPosition: 0 }
        waiters.set(ticket, waiter)
        const leave = () => {
          if (!waiters.delete(ticket)) return
          void eval_(RELEASE, [limit, leaseMs, ticket]).catch(() => {})
          reject(signal!.reason)
        }
        signal?.addEventListener('abort', leave, { once: true })
        void ready.then(() => {
          waiter.announced = true
          if (!waiters.has(ticket) || waiter.lastPosition) return
          waiter.lastPosition = place
          onPosition?.(place)
        })
      })
    },

    async close() {
      clearInterval(poll)
      clearInterval(renew)
      await Promise.all([...held].map(ticket => eval_(RELEASE, [limit, leaseMs, ticket]).catch(() => {})))
      await Promise.all([...marks].map(([key, mark]) => redis.eval(DELETE_MARK, 1, key, mark).catch(() => {})))
    },
  }
}
