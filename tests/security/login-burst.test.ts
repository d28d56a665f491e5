import { type ChildProcess, spawn } from 'node:child_process'
import { connect } from 'node:net'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createTestDatabase, freePort, redisServerPath, type RunningServer, startServer, type TestDatabase } from '../support/server'

// Issue #15 item 5: 200 simultaneous wrong logins from one address got 106–199 password checks instead of 30.
describe('per-address login budget under concurrency (own server, default 30/15m)', () => {
  let server: RunningServer
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase(inject('dbKind'))
    server = await startServer({ DATABASE_URL: db.url, LOGIN_IP_RATE_LIMIT: '30/15m' })
  })
  afterAll(async () => {
    await server?.stop()
    await db?.drop()
  })

  const login = (ip: string, email: string, password: string) => fetch(`${server.url}/api/auth/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': ip },
    body: JSON.stringify({ email, password }),
  }).then(res => res.status)

  it('200 simultaneous wrong logins for 200 accounts from one address → at most 30 password checks (401), the rest 429', async () => {
    const statuses = await Promise.all(Array.from({ length: 200 }, (_, i) => login('198.51.100.7', `spray${i}@test.local`, 'Verano2026!')))
    const count = (s: number) => statuses.filter(x => x === s).length
    expect(count(401) + count(429), JSON.stringify(statuses)).toBe(200)
    expect(count(401)).toBeLessThanOrEqual(30)
    expect(count(401)).toBeGreaterThan(0)
    // another address is not affected, and the right password there signs in
    expect(await login('198.51.100.8', 'admin@example.com', 'admin123')).toBe(200)
  })

  it('successful sign-ins are given back: 40 in a row from one address all pass', async () => {
    for (let i = 0; i < 40; i++) expect(await login('198.51.100.9', 'trabajador@example.com', 'worker123')).toBe(200)
  })
})

// With REDIS_URL the budgets live in Redis, shared by app processes: each step is one Lua script there.
// `npm test` names the skip when the machine has no redis-server (CI installs it and sets REQUIRE_REDIS)
describe.skipIf(!redisServerPath())('the same burst with REDIS_URL (a real redis-server on a loopback port)', () => {
  let server: RunningServer
  let db: TestDatabase
  let redis: ChildProcess
  let port: number
  /** One inline command to the Redis server; its raw reply. */
  const redisCommand = (command: string) => new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(`${command}\r\n`))
    socket.once('data', (d) => { socket.destroy(); resolve(String(d)) })
    socket.once('error', reject)
  })
  beforeAll(async () => {
    port = await freePort()
    redis = spawn(redisServerPath()!, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
    const listening = () => new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
      socket.on('error', () => resolve(false))
    })
    for (const deadline = Date.now() + 10_000; !(await listening());) {
      if (Date.now() > deadline || redis.exitCode !== null) throw new Error('redis-server did not start')
      await new Promise(resolve => setTimeout(resolve, 50))
    }
    db = await createTestDatabase(inject('dbKind'))
    server = await startServer({ DATABASE_URL: db.url, LOGIN_IP_RATE_LIMIT: '30/15m', REDIS_URL: `redis://127.0.0.1:${port}` })
  })
  afterAll(async () => {
    await server?.stop()
    await db?.drop()
    if (redis && redis.exitCode === null) {
      const exited = new Promise(resolve => redis.once('exit', resolve))
      redis.kill('SIGKILL')
      await exited
    }
  })

  it('200 simultaneous wrong logins from one address → at most 30 password checks', async () => {
    const statuses = await Promise.all(Array.from({ length: 200 }, (_, i) => fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '198.51.100.70' },
      body: JSON.stringify({ email: `redis-spray${i}@test.local`, password: 'Verano2026!' }),
    }).then(res => res.status)))
    const count = (s: number) => statuses.filter(x => x === s).length
    expect(count(401) + count(429), JSON.stringify(statuses)).toBe(200)
    expect(count(401)).toBeLessThanOrEqual(30)
    expect(count(401)).toBeGreaterThan(0)
    // counted in Redis (one integer per window), not in the app's memory
    expect(await redisCommand('GET energyapp:rlc:login:ip:198.51.100.70')).toMatch(/^\$2\r\n30\r\n/)
  })
})
