import { afterAll, describe, expect, inject, it } from 'vitest'
import { Client, GOOD_PASSWORD, uniqueEmail } from '../support/http'
import { createTestDatabase, startServer } from '../support/server'
import { sqlRun } from './admin-support'

const DAY = 86_400_000

async function newWorker() {
  const email = uniqueEmail('ops')
  const client = new Client()
  expect((await client.post('/api/auth/register', { email, password: GOOD_PASSWORD, fullName: 'Operaciones' })).status).toBe(201)
  return { client, email }
}

describe('operations: monitors, old links, session lifetime, log levels', () => {
  it('GET /health at the site root answers like /api/health (JSON, not the app shell)', async () => {
    const res = await new Client().get('/health')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('application/json')
    expect(res.body).toMatchObject({ status: 'ok', db: 'ok', ollama: 'down' })
  })

  it('old /dashboard links redirect to /chat', async () => {
    const res = await fetch(`${inject('baseUrl')}/dashboard`, { redirect: 'manual' })
    expect(res.status).toBe(301)
    expect(res.headers.get('location')).toBe('/chat')
  })

  it('a session in use still ends SESSION_MAX_DAYS (90) after sign-in', async () => {
    const { client, email } = await newWorker()
    const [user] = await sqlRun<{ id: string }>('select id from users where email = ?', [email])
    // 89 days old and last seen 2 days ago: still valid, and its renewed expiry stops at day 90
    await sqlRun('update sessions set created_at = ?, last_seen_at = ? where user_id = ?', [new Date(Date.now() - 89 * DAY), new Date(Date.now() - 2 * DAY), user!.id])
    const ms = (value: unknown) => value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number(value)
    const stored = async () => (await sqlRun<{ created_at: unknown, expires_at: unknown }>('select created_at, expires_at from sessions where user_id = ?', [user!.id]))[0]!
    // a change made straight in the database is seen once the sign-in cache entry (AUTH_CACHE_MS) ages out
    await expect.poll(async () => {
      expect((await client.get('/api/auth/me')).status).toBe(200)
      const row = await stored()
      return ms(row.expires_at) - ms(row.created_at) <= 90 * DAY
    }, { timeout: 5_000 }).toBe(true)
    const row = await stored()
    expect(ms(row!.expires_at)).toBeGreaterThan(Date.now())
    // past day 90 the session is refused even though it slid forward
    await sqlRun('update sessions set created_at = ?, expires_at = ? where user_id = ?', [new Date(Date.now() - 91 * DAY), new Date(Date.now() + 20 * DAY), user!.id])
    await expect.poll(async () => (await client.get('/api/auth/me')).status, { timeout: 5_000 }).toBe(401)
  })
})

describe('LOG_LEVEL', () => {
  const stops: Array<() => Promise<unknown>> = []
  afterAll(async () => { for (const stop of stops) await stop() })

  it('warn keeps warnings (rate limits) and drops info lines (start-up)', async () => {
    const db = await createTestDatabase(inject('dbKind'))
    const server = await startServer({ DATABASE_URL: db.url, LOG_LEVEL: 'warn', LOGIN_RATE_LIMIT: '1/15m' })
    stops.push(async () => { await server.stop(); await db.drop() })
    const client = new Client(server.url)
    for (let i = 0; i < 2; i++)
      await client.post('/api/auth/login', { email: 'nadie@test.local', password: 'incorrecta-123' })
    const lines = server.output().split('\n').filter(l => l.startsWith('{')).map(l => JSON.parse(l))
    expect(lines.some(l => l.msg === 'rate_limited' && l.level === 'warn')).toBe(true)
    expect(lines.filter(l => l.level === 'info' || l.level === 'debug')).toEqual([])
  })

  it('an unknown level is refused at start-up with a message naming LOG_LEVEL', async () => {
    const db = await createTestDatabase(inject('dbKind'))
    stops.push(() => db.drop())
    await expect(startServer({ DATABASE_URL: db.url, LOG_LEVEL: 'loud' })).rejects.toThrow(/LOG_LEVEL/)
  })
})
