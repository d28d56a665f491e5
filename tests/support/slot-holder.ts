// A stand-in app process for tests/api/slot-kills.test.ts (bundled there with esbuild): the app's own cross-process slot code
// (server/services/generation-slots-redis.ts: its Lua scripts, leases and renewals) on its own Redis connection,
// doing what the chat does with it — claim the user's one-answer mark, wait for a model slot (announcing places),
// hold it for a while, free the slot, then the mark — on several users at once, until it is killed.
// Env: REDIS_URL, LEASE_MS, SLOT_LIMIT, USERS (comma-separated ids shared by every holder), WORKERS (3).
// Prints `ready` once it has a mark and a slot request in Redis, so the test kills it with work in flight.
import Redis from 'ioredis'
import { redisSlots } from '../../server/services/generation-slots-redis'

const env = process.env
const redis = new Redis(env.REDIS_URL!, { maxRetriesPerRequest: 2 })
redis.on('error', () => {})
const slots = redisSlots(redis, Number(env.LEASE_MS))
const limit = Number(env.SLOT_LIMIT)
const users = env.USERS!.split(',')
const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms))
const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)]!

let told = false
async function worker() {
  for (;;) {
    const user = pick(users)
    const unmark = await slots.claimUser(user)
    if (!unmark) { await sleep(5); continue }
    const granted = slots.acquire(user, { limit, beforeWait: async () => {}, onPosition: () => {} })
    if (!told) { told = true; process.stdout.write('ready\n') }
    const release = await granted
    await sleep(Math.random() * 60)
    await release()
    await unmark()
  }
}

for (let i = 0; i < Number(env.WORKERS || 3); i++) void worker()
