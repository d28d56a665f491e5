import Redis from 'ioredis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { GenerationSlots, Release } from '../../server/services/generation-queue'
import { redisSlots } from '../../server/services/generation-slots-redis'
import { type RunningRedis, startRedis } from '../support/redis'
import { redisServerPath } from '../support/server'

// The Lua scripts of the cross-process queue against a real redis-server, two "processes" (two slot managers on
// their own connections): several waiting requests per user (the HTTP tests cannot make them: one answer per user).
describe.skipIf(!redisServerPath())('generation slots in Redis', () => {
  let redis: RunningRedis
  const connections: Redis[] = []
  beforeAll(async () => { redis = await startRedis() })
  afterAll(async () => {
    for (const c of connections) c.disconnect()
    await redis?.stop()
  })

  const manager = (leaseMs = 5000) => {
    const connection = new Redis(redis.url)
    connections.push(connection)
    return { slots: redisSlots(connection, leaseMs), connection }
  }

  it('round-robin between users across two processes, FIFO within a user, places counted globally', async () => {
    await connections[0]?.flushall()
    const one = manager().slots
    const two = manager().slots
    const served: string[] = []
    const places = new Map<string, number[]>()
    const take = (slots: GenerationSlots, user: string, label: string) => slots.acquire(user, {
      limit: 1,
      onPosition: p => places.set(label, [...places.get(label) ?? [], p]),
    }).then((release) => { served.push(label); return release })
    const grants = new Map<string, Promise<Release>>()
    grants.set('x0', take(one, 'x', 'x0'))
    await grants.get('x0')
    // a's three requests on process one, b's two on process two, c's one on process one, queued in that order
    // each is in the line (it was told its place) before the next one queues: a fixed pause between them let c1 on
    // process one reach Redis before b1, the first command of process two's new connection, on a loaded CI machine
    for (const [slots, user, label] of [[one, 'a', 'a1'], [one, 'a', 'a2'], [one, 'a', 'a3'], [two, 'b', 'b1'], [two, 'b', 'b2'], [one, 'c', 'c1']] as const) {
      grants.set(label, take(slots, user, label))
      await expect.poll(() => places.has(label)).toBe(true)
    }
    // places in the global order: round r of every user's line, users in the order they first queued
    const expected = { a1: 1, b1: 2, c1: 3, a2: 4, b2: 5, a3: 6 }
    await expect.poll(() => Object.fromEntries(Object.keys(expected).map(label => [label, places.get(label)?.at(-1)]))).toEqual(expected)
    expect(places.get('a1')).toEqual([1])
    const order = ['x0', 'a1', 'b1', 'c1', 'a2', 'b2', 'a3']
    for (let i = 0; i < order.length; i++) {
      await expect.poll(() => served.length).toBeGreaterThan(i)
      // before the next release, every request still waiting has been told its new place (1, 2, … in serving
      // order): releasing at once let a3 be served before its "1" arrived (a quiet machine failed 2 runs in 6)
      const waiting = order.slice(i + 1)
      await expect.poll(() => waiting.map(label => places.get(label)?.at(-1))).toEqual(waiting.map((_, k) => k + 1))
      await (await grants.get(served[i]!)!)()
    }
    expect(served).toEqual(order)
    // a3's place grew to 6 while other users joined ahead, then only went down as the others were served, to 1
    // (two releases close together may reach it as one update: 5 → 3 is fine, a place going back up is not)
    const a3 = places.get('a3')!
    const after = a3.slice(a3.lastIndexOf(6))
    expect(after.length).toBeGreaterThan(1)
    expect(after.every((place, i) => i === 0 || place < after[i - 1]!), `a3's places: ${a3}`).toBe(true)
    expect(after.at(-1)).toBe(1)
  })

  it('a process that stops renewing (killed) loses its slot and marks after the lease; a waiter elsewhere gets the slot', async () => {
    await connections[0]?.flushall()
    const doomed = manager(600)
    const alive = manager(600).slots
    await doomed.slots.acquire('d', { limit: 1 })
    expect(await doomed.slots.claimUser('d')).not.toBeNull()
    expect(await alive.claimUser('d')).toBeNull()
    const places: number[] = []
    const waiting = alive.acquire('e', { limit: 1, onPosition: p => places.push(p) })
    await expect.poll(() => places).toEqual([1])
    // the renewals stop reaching Redis: what a SIGKILL does
    doomed.connection.disconnect()
    const started = Date.now()
    const release = await waiting
    expect(Date.now() - started).toBeLessThan(3000)
    await expect.poll(() => alive.claimUser('d').then(r => r !== null)).toBe(true)
    await release()
  })

  it('one mark per user across processes; only its holder clears it', async () => {
    await connections[0]?.flushall()
    const one = manager().slots
    const two = manager().slots
    const mark = await one.claimUser('u')
    expect(mark).not.toBeNull()
    expect(await two.claimUser('u')).toBeNull()
    await mark!()
    const again = await two.claimUser('u')
    expect(again).not.toBeNull()
    // the first holder's release, called again, does not clear the new holder's mark
    await mark!()
    expect(await one.claimUser('u')).toBeNull()
  })

  it('a waiter whose request is aborted leaves the line at once', async () => {
    await connections[0]?.flushall()
    const one = manager().slots
    const two = manager().slots
    const held = await one.acquire('h', { limit: 1 })
    const controller = new AbortController()
    const gone = two.acquire('g', { limit: 1, signal: controller.signal })
    const placesOfK: number[] = []
    const next = two.acquire('k', { limit: 1, onPosition: p => placesOfK.push(p) })
    await expect.poll(() => placesOfK.at(-1)).toBe(2)
    controller.abort(new Error('left'))
    await expect(gone).rejects.toThrow('left')
    await expect.poll(() => placesOfK.at(-1)).toBe(1)
    await held()
    await (await next)()
  })
})
