import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { redisLoadTracker } from '../../server/services/model/load-redis'
import { type RunningRedis, startRedis } from '../support/redis'
import { redisServerPath } from '../support/server'

// The model pool's load shared through Redis (issue #14): two "processes" (two trackers on their own connections)
// see each other's answers in flight; one that stops renewing (killed) drops out after its lease; a clean close at once.
describe.skipIf(!redisServerPath())('model-server load in Redis', () => {
  let redis: RunningRedis
  const connections: Redis[] = []
  beforeAll(async () => { redis = await startRedis() })
  afterAll(async () => {
    for (const c of connections) c.disconnect()
    await redis?.stop()
  })
  const tracker = (leaseMs: number) => {
    const connection = new Redis(redis.url)
    connections.push(connection)
    return { load: redisLoadTracker(connection, leaseMs), connection }
  }

  it('counts every process\'s answers per server; this process\'s own count is exact at once', async () => {
    const one = tracker(5000).load
    const two = tracker(5000).load
    const endA = one.begin('0')
    const endB = one.begin('0')
    one.begin('1')
    expect(one.load('0')).toBe(2) // no waiting for Redis: its own mirror
    await expect.poll(async () => { await two.sync(); return [two.load('0'), two.load('1')] }).toEqual([2, 1])
    const mine = two.begin('1')
    await expect.poll(async () => { await one.sync(); return one.load('1') }).toBe(2)
    endA()
    endA() // twice is harmless
    endB()
    mine()
    await expect.poll(async () => { await two.sync(); return [two.load('0'), two.load('1')] }).toEqual([0, 1])
    await one.close()
    await expect.poll(async () => { await two.sync(); return two.load('1') }).toBe(0)
  })

  it('a process that stops renewing (killed) no longer counts after its lease', async () => {
    const doomed = tracker(600)
    const alive = tracker(600).load
    doomed.load.begin('0')
    await doomed.load.sync()
    await expect.poll(async () => { await alive.sync(); return alive.load('0') }).toBe(1)
    doomed.connection.disconnect() // what a SIGKILL does to its renewals
    const cut = Date.now()
    await expect.poll(async () => { await alive.sync(); return alive.load('0') }, { timeout: 3000, interval: 50 }).toBe(0)
    expect(Date.now() - cut).toBeLessThan(2000)
    await alive.close()
  })
})
