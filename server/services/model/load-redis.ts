import { randomUUID } from 'node:crypto'
import type { Redis } from 'ioredis'
import type { LoadTracker } from './pool'

/**
 * The pool's answers-in-flight per model server, counted across every app process (REDIS_URL), so the least-busy
 * choice sees the streams of all processes, not only its own.
 *
 * Per-process counters with a lease rather than shared INCR/DECR: each process writes its own counts into a hash
 * `load:<process>` that expires after `leaseMs` and is listed in the sorted set `procs` scored by that lease's end.
 * A process killed with SIGKILL stops renewing, so its load vanishes after one lease — a shared counter would keep
 * its streams forever. One Lua script writes this process's counts and returns the sum of the others'.
 *
 * `load()` is read on every pick and must not wait: it answers from a mirror (this process's exact counts plus
 * the other processes' sums from the last sync). A sync runs at once after every change (coalesced: one at a
 * time, then one more if something changed meanwhile) and every SYNC_MS, so another process's new stream is
 * seen within about SYNC_MS. When Redis is unreachable the mirror keeps the last sums and this process's counts.
 */

const PREFIX = 'energyapp:pool-load:'
const PROCS = `${PREFIX}procs`
// how often the other processes' counts are read (and this process's lease renewed)
const SYNC_MS = 200

// KEYS[1] procs; ARGV: me, ttl, then server id / count pairs → flat list of server id / summed count of the others
const SYNC = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local me, ttl = ARGV[1], tonumber(ARGV[2])
local mine = '${PREFIX}' .. me
redis.call('DEL', mine)
if #ARGV > 2 then
  for k = 3, #ARGV, 2 do redis.call('HSET', mine, ARGV[k], ARGV[k + 1]) end
  redis.call('PEXPIRE', mine, ttl)
end
redis.call('ZADD', KEYS[1], now + ttl, me)
for _, p in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)) do
  redis.call('ZREM', KEYS[1], p)
  redis.call('DEL', '${PREFIX}' .. p)
end
local sums = {}
for _, p in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if p ~= me then
    local h = redis.call('HGETALL', '${PREFIX}' .. p)
    for k = 1, #h, 2 do sums[h[k]] = (sums[h[k]] or 0) + tonumber(h[k + 1]) end
  end
end
local out = {}
for id, n in pairs(sums) do out[#out + 1] = id out[#out + 1] = n end
return out`

// KEYS[1] procs; ARGV: me — a process leaving (SIGTERM) takes its counts along at once
const LEAVE = `redis.call('ZREM', KEYS[1], ARGV[1]) redis.call('DEL', '${PREFIX}' .. ARGV[1]) return 0`

export interface RedisLoadTracker extends LoadTracker {
  /** Resolves after one sync with Redis (tests, start-up). */
  sync: () => Promise<void>
  close: () => Promise<void>
}

export function redisLoadTracker(redis: Redis, leaseMs: number): RedisLoadTracker {
  const me = randomUUID()
  const local = new Map<string, number>()
  let others = new Map<string, number>()
  let running: Promise<void> | null = null
  let again = false
  let closed = false

  async function syncOnce() {
    const args: Array<string | number> = [me, leaseMs]
    for (const [id, n] of local) if (n > 0) args.push(id, n)
    try {
      const flat = await redis.eval(SYNC, 1, PROCS, ...args) as Array<string | number>
      const next = new Map<string, number>()
      for (let k = 0; k < flat.length; k += 2) next.set(String(flat[k]), Number(flat[k + 1]))
      others = next
    }
    catch {}
  }

  function sync(): Promise<void> {
    if (closed) return Promise.resolve()
    if (running) { again = true; return running }
    running = (async () => {
      do {
        again = false
        await syncOnce()
      } while (again && !closed)
    })().finally(() => { running = null })
    return running
  }

  const timer = setInterval(() => void sync(), Math.min(SYNC_MS, Math.max(50, Math.floor(leaseMs / 3))))
  timer.unref()
  void sync()

  return {
    load: id => (local.get(id) ?? 0) + (others.get(id) ?? 0),
    begin(id) {
      local.set(id, (local.get(id) ?? 0) + 1)
      void sync()
      let ended = false
      return () => {
        if (ended) return
        ended = true
        local.set(id, Math.max(0, (local.get(id) ?? 1) - 1))
        void sync()
      }
    },
    sync,
    async close() {
      closed = true
      clearInterval(timer)
      await running
      await redis.eval(LEAVE, 1, PROCS, me).catch(() => {})
    },
  }
}
