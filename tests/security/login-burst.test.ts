import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createTestDatabase, type RunningServer, startServer, type TestDatabase } from '../support/server'

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
