import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { ending, eventually, isTitleCall, postChat } from '../support/chat'
import { FakeOllama } from '../support/fake-ollama'
import { Client, DEMO, newWorker } from '../support/http'
import { type RunningRedis, startRedis } from '../support/redis'
import { createTestDatabase, redisServerPath, type RunningServer, startServer, type TestDatabase } from '../support/server'

// Issue 14: the model pool with several app processes (REDIS_URL) and two fake Ollamas in OLLAMA_HOSTS —
// one fake dies mid-run (answers before their first token fail over, later ones go to the live one, Admin → Modelo
// on every process shows it down, then up once it is back), and the least-busy choice counts the streams of every
// process (a killed process's share disappears after its lease).
const LEASE_MS = 1500

/** The same user signed in on another process (the session lives in the shared database). */
function on(server: RunningServer, client: Client) {
  const other = new Client(server.url)
  other.cookies = new Map(client.cookies)
  return other
}

describe.skipIf(!redisServerPath())('two app processes, one Redis, a pool of two Ollamas', () => {
  let redis: RunningRedis
  let db: TestDatabase
  let a: FakeOllama
  let b: FakeOllama
  let env: Record<string, string>
  const apps: RunningServer[] = []
  let admin: Client
  const answers = (fake: FakeOllama) => fake.chatRequests.filter(r => !isTitleCall(r.body))
  const servers = async (app: RunningServer) => (await on(app, admin).get('/api/admin/model-servers')).body.data as Array<{ state: string, load: number, lastError: string | null }>

  beforeAll(async () => {
    redis = await startRedis()
    db = await createTestDatabase(inject('dbKind'))
    a = await new FakeOllama().start()
    b = await new FakeOllama().start()
    env = {
      DATABASE_URL: db.url, REDIS_URL: redis.url, OLLAMA_HOSTS: `${a.url},${b.url}`, MODEL_CHECK_MS: '300',
      MAX_CONCURRENT_GENERATIONS: '16', CHAT_RATE_LIMIT: '10000/1m', GENERATION_LEASE_MS: String(LEASE_MS),
    }
    apps.push(await startServer(env))
    apps.push(await startServer(env))
    admin = new Client(apps[0]!.url)
    await admin.login(DEMO.admin.email, DEMO.admin.password)
  }, 120_000)

  afterAll(async () => {
    await Promise.all(apps.map(app => app.stop()))
    await a?.close()
    await b?.close()
    await redis?.stop()
    await db?.drop()
  })

  it('one fake Ollama dies mid-run: answers before their first token fail over; later ones go to the live one; Admin shows it down, then up', async () => {
    for (const app of apps) await eventually(async () => (await servers(app)).every(s => s.state === 'healthy'), 15_000)
    // a is slow to start answering: the answers it takes are still before their first token when it dies
    a.reset().set({ firstTokenDelayMs: 3000, tokenCount: 10, delayMs: 10 })
    b.reset().set({ tokenCount: 10, delayMs: 10 })
    const users = await Promise.all([0, 1, 2, 3].map(i => newWorker(apps[i % 2]!.url)))
    const running = users.map((u, i) => postChat(u.client, { message: `antes ${i}` }))
    // both processes spread their answers over both servers: b's are done quickly, a's are still unanswered
    await a.waitFor(() => answers(a).length + answers(b).length === 4, 15_000)
    expect(answers(a).length).toBeGreaterThan(0)
    expect(answers(a).every(r => r.tokensSent === 0)).toBe(true)
    const port = Number(new URL(a.url).port)
    await a.close()
    for (const reply of await Promise.all(running)) {
      expect(reply.status, reply.text).toBe(200)
      expect(ending(reply)!.event).toBe('done')
      expect(reply.tokens).toBe(Array.from({ length: 10 }, (_, i) => `tok${i} `).join(''))
    }
    expect(answers(b).filter(r => /^antes/.test(r.body.messages.at(-1).content))).toHaveLength(4)
    // Admin → Modelo on both processes: a is down, with the reason
    for (const app of apps) {
      const down = await eventually(async () => { const s = await servers(app); return s[0]!.state === 'down' && s }, 10_000)
      expect(down[0]!.lastError).toMatch(/cannot be reached|ECONNREFUSED|ECONNRESET|socket|terminated|fetch failed/i)
      expect(down[1]!.state).toBe('healthy')
    }
    // later answers, on either process, go to the live one at once
    const before = answers(b).length
    const later = await Promise.all(users.map((u, i) => postChat(on(apps[(i + 1) % 2]!, u.client), { message: `después ${i}` })))
    for (const reply of later) expect(ending(reply)!.event).toBe('done')
    expect(answers(b).length - before).toBe(4)
    // a back on its port: both processes see it healthy and send it answers again
    a = await new FakeOllama({ port }).start()
    a.set({ tokenCount: 200, delayMs: 10 })
    b.set({ tokenCount: 200, delayMs: 10 })
    // both idle in both processes' eyes first: a process sees the other's streams (the later answers' title calls
    // included) through Redis within a sync interval, and the least-busy pick below assumes 0/0
    for (const app of apps) await eventually(async () => (await servers(app)).every(s => s.state === 'healthy' && s.load === 0), 15_000)
    const again = await Promise.all(users.slice(0, 2).map(u => postChat(on(apps[0]!, u.client), { message: 'de vuelta' })))
    for (const reply of again) expect(ending(reply)!.event).toBe('done')
    expect(answers(a).filter(r => r.body.messages.at(-1).content === 'de vuelta')).toHaveLength(1)
  }, 90_000)

  it('the least-busy choice counts every process\'s streams; a killed process\'s load disappears after its lease', async () => {
    a.reset().set({ tokenCount: 3000, delayMs: 20 })
    b.reset().set({ tokenCount: 3000, delayMs: 20 })
    for (const app of apps) await eventually(async () => (await servers(app)).every(s => s.state === 'healthy' && s.load === 0), 15_000)
    const [one, two, three] = await Promise.all([0, 1, 2].map(() => newWorker(apps[0]!.url)))
    // one long answer on process 0
    void postChat(one!.client, { message: 'largo uno' }).catch(() => {})
    await eventually(async () => answers(a).length + answers(b).length === 1, 10_000)
    const first = answers(a).length ? 0 : 1
    // process 1 sees it in the load it uses to choose…
    const loads = await eventually(async () => { const s = await servers(apps[1]!); return s[first]!.load === 1 && s.map(x => x.load) }, 10_000)
    expect(loads[1 - first]).toBe(0)
    // …so its next answer goes to the other server (its own counts alone are 0/0, and its first pick would be server 0)
    void postChat(on(apps[1]!, two!.client), { message: 'largo dos' }).catch(() => {})
    await eventually(async () => answers(a).length + answers(b).length === 2, 10_000)
    expect((first === 0 ? answers(b) : answers(a)).map(r => r.body.messages.at(-1).content)).toEqual(['largo dos'])
    await eventually(async () => (await servers(apps[0]!)).every(s => s.load === 1), 10_000)
    // a third one, on process 0: one each already, so either; then the totals are 2 and 1 on both processes
    void postChat(three!.client, { message: 'largo tres' }).catch(() => {})
    const busy = await eventually(async () => {
      const s = (await servers(apps[1]!)).map(x => x.load)
      return s[0]! + s[1]! === 3 && s
    }, 10_000)
    expect([...busy].sort()).toEqual([1, 2])
    // process 0 killed with its two streams: process 1 forgets them within a lease; its own stream still counts
    await apps[0]!.stop('SIGKILL')
    apps.shift()
    const killedAt = Date.now()
    const after = await eventually(async () => { const s = (await servers(apps[0]!)).map(x => x.load); return s[0]! + s[1]! === 1 && s }, LEASE_MS + 5000)
    expect(Date.now() - killedAt).toBeLessThan(LEASE_MS + 5000)
    expect(after[1 - first]).toBe(1)
  }, 90_000)
})
