import { type ChildProcess, spawn } from 'node:child_process'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { Client, DEMO, newWorker } from '../support/http'
import { createTestDatabase, freePort, redisServerPath, type RunningServer, startServer, type TestDatabase } from '../support/server'
import { sqlRun } from './admin-support'
import { LiveReader } from './live-reader'

// API.md "Live events": with REDIS_URL set, events reach streams held by any app process.
// `npm test` names the skip when the machine has no redis-server (CI installs it and sets REQUIRE_REDIS)
const redisServer = redisServerPath()

describe.skipIf(!redisServer)('two app processes on one database and one Redis', () => {
  let redis: ChildProcess
  let db: TestDatabase
  let one: RunningServer
  let two: RunningServer
  const readers: LiveReader[] = []

  beforeAll(async () => {
    const port = await freePort()
    redis = spawn(redisServer!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    db = await createTestDatabase(inject('dbKind'))
    const env = { DATABASE_URL: db.url, REDIS_URL: `redis://127.0.0.1:${port}` }
    // one after the other: the first migrates the fresh database
    one = await startServer(env)
    two = await startServer(env)
  })
  afterAll(async () => {
    await Promise.all(readers.map(r => r.close()))
    await one?.stop()
    await two?.stop()
    redis?.kill()
    await db?.drop()
  })

  it('a message sent through one process reaches the recipient\'s stream on the other', async () => {
    const a = await newWorker(one.url)
    const b = await newWorker(one.url)
    const bOnTwo = new Client(two.url)
    await bOnTwo.login(b.email, b.password)
    const live = await LiveReader.open(bOnTwo)
    readers.push(live)
    await expect.poll(() => live.lastUnread()).toBe(0)
    const sent = await a.client.post('/api/messages', { recipientId: b.user.id, content: 'entre procesos' })
    expect(sent.status, sent.text).toBe(201)
    await expect.poll(() => live.named('dm')).toEqual([{ dm: sent.body }])
    await expect.poll(() => live.lastUnread()).toBe(1)
    await b.client.put('/api/messages/read-all')
    await expect.poll(() => live.lastUnread()).toBe(0)
  })

  it('a read-all through one process reaches the sender\'s stream on the other: a dm-update for every message read', async () => {
    const a = await newWorker(one.url)
    const b = await newWorker(one.url)
    const aOnTwo = new Client(two.url)
    await aOnTwo.login(a.email, a.password)
    const live = await LiveReader.open(aOnTwo)
    readers.push(live)
    await expect.poll(() => live.lastUnread()).toBe(0)
    for (const content of ['uno', 'dos']) await a.client.post('/api/messages', { recipientId: b.user.id, content })
    expect((await b.client.put('/api/messages/read-all')).body).toEqual({ updated: 2 })
    // one sender's events travel as one bus message (in no particular order)
    await expect.poll(() => live.named('dm-update').map(e => `${e.dm.content} ${e.dm.read}`).sort()).toEqual(['dos true', 'uno true'])
  })

  it('one number is verified on one account even when two processes set it on two accounts at once', async () => {
    const admins = await Promise.all([one, two].map(async (server) => {
      const admin = new Client(server.url)
      await admin.login(DEMO.admin.email, DEMO.admin.password)
      return admin
    }))
    const [a, b] = await Promise.all([newWorker(one.url), newWorker(one.url)])
    // each process checks "not verified elsewhere" and then writes: only the database's unique index sees both
    for (let round = 0; round < 8; round++) {
      const number = `+5699${String(Date.now() % 1_000_000).padStart(6, '0')}${round}`
      const answers = await Promise.all([
        admins[0]!.post(`/api/admin/users/${a.user.id}/phone`, { phone: number }),
        admins[1]!.post(`/api/admin/users/${b.user.id}/phone`, { phone: number }),
      ])
      expect(answers.map(r => r.status).sort(), number).toEqual([200, 409])
      expect(answers.find(r => r.status === 409)?.text, number).toMatch(/phone: this number is verified on another account/)
      const verified = await sqlRun('select id from users where phone = ? and phone_verified_at is not null', [number], db.url)
      expect(verified, number).toHaveLength(1)
    }
  })

  it('both processes still stop cleanly on SIGTERM with Redis connections open', async () => {
    const codes = await Promise.all([one.stop(), two.stop()])
    expect(codes).toEqual([0, 0])
  })
})
