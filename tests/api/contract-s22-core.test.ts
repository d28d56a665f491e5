import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { Client, DEMO, GOOD_PASSWORD, uniqueEmail } from '../support/http'
import { createTestDatabase, ROOT, type RunningServer, startServer, type TestDatabase } from '../support/server'
import { ownServer } from './admin-support'

// A third audit of API.md's "Conventions", "Auth", "Chat", "Conversations" and "Runtime configuration" against the
// built server (session 22): each test here failed on the build before its fix.

describe('DEMO_ACCOUNTS off (API.md "Runtime configuration": "seed and show the demo accounts"; "Demo accounts (when enabled)")', () => {
  let db: TestDatabase | undefined
  let server: RunningServer | undefined
  afterAll(async () => {
    await server?.stop()
    await db?.drop()
  })

  it('demo accounts left in the database by an earlier start cannot sign in, and their sessions and tokens stop working', async () => {
    db = await createTestDatabase(inject('dbKind'))
    // an earlier start with demo accounts on: they are seeded, signed in, and one of them makes an API token
    server = await startServer({ DATABASE_URL: db.url, DEMO_ACCOUNTS: 'true' })
    const demoWorker = new Client(server.url)
    await demoWorker.login(DEMO.worker.email, DEMO.worker.password)
    const token = await demoWorker.post('/api/auth/tokens', { name: 'script', password: DEMO.worker.password })
    expect(token.status).toBe(201)
    const someone = new Client(server.url)
    const email = uniqueEmail('real')
    expect((await someone.post('/api/auth/register', { email, password: GOOD_PASSWORD, fullName: 'Persona Real' })).status).toBe(201)
    await server.stop()

    // the same database, now in production-like mode without demo accounts
    server = await startServer({ DATABASE_URL: db.url, DEMO_ACCOUNTS: 'false' })
    const fresh = new Client(server.url)
    expect((await fresh.get('/api/config')).body.demoAccounts).toEqual([])
    for (const account of [DEMO.admin, DEMO.supervisor, DEMO.worker]) {
      const res = await new Client(server.url).post('/api/auth/login', account)
      expect(res.status, `${account.email} ${res.text}`).toBe(401)
      expect(res.body.message).toBe('Invalid credentials')
      expect(res.headers.getSetCookie().join()).not.toContain('energyapp_session=F')
    }
    // the cookie and the token made while they were on no longer open anything
    demoWorker.baseUrl = server.url
    expect((await demoWorker.get('/api/auth/me')).status).toBe(401)
    expect((await demoWorker.get('/api/conversations')).status).toBe(401)
    const script = new Client(server.url)
    script.bearer = token.body.token
    expect((await script.get('/api/auth/me')).status).toBe(401)
    // everyone else is unaffected
    someone.baseUrl = server.url
    expect((await someone.get('/api/auth/me')).status).toBe(200)
    expect((await new Client(server.url).post('/api/auth/login', { email, password: GOOD_PASSWORD })).status).toBe(200)

    // `npm run create-admin` giving the demo admin a password of its own makes it a real account again
    const run = spawnSync(process.execPath, [resolve(ROOT, 'scripts/create-admin.mjs'), '--email', DEMO.admin.email, '--password', 'clave-propia-admin-42'],
      { env: { PATH: process.env.PATH, DATABASE_URL: db.url }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 60_000 })
    expect(run.status, run.stderr).toBe(0)
    expect((await new Client(server.url).post('/api/auth/login', { email: DEMO.admin.email, password: 'clave-propia-admin-42' })).status).toBe(200)
  }, 120_000)
})

describe('POST /api/auth/register: "400 weak password (< 10 chars or in a common-password list)"', () => {
  it('the well-known long passwords of the common lists are refused as common', async () => {
    const common = ['password1234', 'PASSWORD1234', 'qwerty1234', '1q2w3e4r5t', '1qaz2wsx3edc', 'qazwsxedcrfv',
      '0123456789', '0987654321', '1234567891', '12345678910', 'iloveyou12', 'iloveyou123', 'admin12345', 'welcome123',
      'contraseña123', 'abcdefghij']
    for (const password of common) {
      const res = await new Client().post('/api/auth/register', { email: uniqueEmail('common'), password, fullName: 'Débil' })
      expect(res.status, `${password}: ${res.text}`).toBe(400)
      expect(res.body.message).toBe('password: is too common')
      expect(res.body.data.fields.password).toBe('is too common')
    }
    // the list is matched whole: a listed word with more added is not refused by it (test suites and scripts often
    // use such a password for a user they create)
    for (const password of [GOOD_PASSWORD, 'pasamanos-de-cobre-2024', 'turbina7eólica!', 'Password123!'])
      expect((await new Client().post('/api/auth/register', { email: uniqueEmail('strong'), password, fullName: 'Fuerte' })).status, password).toBe(201)
  })
})

describe('POST /api/auth/register and the address budget (API.md: "30 per IP address" counts failed logins)', () => {
  it('successful sign-ups from one address are not capped by it; failed ones are, with 429 and Retry-After', async () => {
    const own = await ownServer({ LOGIN_IP_RATE_LIMIT: '3/15m' })
    try {
      // an office behind one address signs up more people than the budget: every one gets in
      for (let i = 0; i < 6; i++) {
        const res = await new Client(own.url).post('/api/auth/register', { email: uniqueEmail('office'), password: GOOD_PASSWORD, fullName: `Persona ${i}` })
        expect(res.status, res.text).toBe(201)
      }
      // failed attempts (each costs a check) use it up
      for (let i = 0; i < 3; i++)
        expect((await new Client(own.url).post('/api/auth/register', { email: uniqueEmail('weak'), password: 'password1', fullName: 'X' })).status).toBe(400)
      const limited = await new Client(own.url).post('/api/auth/register', { email: uniqueEmail('late'), password: GOOD_PASSWORD, fullName: 'X' })
      expect(limited.status).toBe(429)
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    }
    finally { await own.stop() }
  }, 60_000)
})
