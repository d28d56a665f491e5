import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { SafeClient, signIn } from '../support/auth'
import { GOOD_PASSWORD, uniqueEmail } from '../support/http'
import { type RunningServer, startServer } from '../support/server'

// A second server on the same database: https public origin, self-service restricted, a tiny per-address login budget.
let policy: RunningServer

beforeAll(async () => {
  policy = await startServer({
    DATABASE_URL: inject('databaseUrl'),
    ALLOW_SHARED_DATABASE: '1', // a second server on the suite's database (the first has no REDIS_URL)
    REGISTRATION_DOMAINS: '',
    PASSWORD_CHANGE_DOMAINS: 'example.com',
    TOTP_SELF_SERVICE_DOMAINS: 'example.com',
    LOGIN_IP_RATE_LIMIT: '3/15m',
    PUBLIC_ORIGIN: 'https://chat.empresa.example',
  })
})
afterAll(async () => { await policy?.stop() })

/** Registers on the main server (registration is open there) and signs in on the policy server. */
async function userOn(domain: 'test.local' | 'example.com') {
  const email = uniqueEmail('policy').replace('@test.local', `@${domain}`)
  const reg = await new SafeClient().post('/api/auth/register', { email, password: GOOD_PASSWORD, fullName: 'Política' })
  expect(reg.status).toBe(201)
  return { email, client: await signIn(email, GOOD_PASSWORD, policy.url) }
}

describe('REGISTRATION_DOMAINS empty = registration closed', () => {
  it('POST /api/auth/register → 403 for any domain, and /api/config says so', async () => {
    const client = new SafeClient(policy.url)
    for (const email of [uniqueEmail('closed'), uniqueEmail('closed').replace('test.local', 'example.com')]) {
      const res = await client.post('/api/auth/register', { email, password: GOOD_PASSWORD, fullName: 'Cerrado' })
      expect(res.status).toBe(403)
      expect(res.body.message).toMatch(/closed/i)
    }
    expect((await client.get('/api/config')).body.registrationOpen).toBe(false)
  })
})

describe('PASSWORD_CHANGE_DOMAINS', () => {
  it('403 for a user outside the listed domains, even with the right current password', async () => {
    const { client } = await userOn('test.local')
    const res = await client.put('/api/auth/password', { currentPassword: GOOD_PASSWORD, newPassword: 'nueva-clave-segura-5' })
    expect(res.status).toBe(403)
    expect((await new SafeClient(policy.url).post('/api/auth/login', { email: (await client.get('/api/auth/me')).body.email, password: GOOD_PASSWORD })).status).toBe(200)
  })

  it('204 for a user in a listed domain', async () => {
    const { client } = await userOn('example.com')
    const res = await client.put('/api/auth/password', { currentPassword: GOOD_PASSWORD, newPassword: 'nueva-clave-segura-5' })
    expect(res.status).toBe(204)
  })
})

describe('TOTP_SELF_SERVICE_DOMAINS', () => {
  it('2FA setup → 403 outside the listed domains, 200 inside', async () => {
    const outside = await userOn('test.local')
    expect((await outside.client.post('/api/auth/2fa/setup', { password: GOOD_PASSWORD })).status).toBe(403)
    const inside = await userOn('example.com')
    expect((await inside.client.post('/api/auth/2fa/setup', { password: GOOD_PASSWORD })).status).toBe(200)
  })
})

describe('per-address login limit (LOGIN_IP_RATE_LIMIT=3/15m, address from the last X-Forwarded-For entry)', () => {
  const loginFrom = (ip: string, email: string, password: string) =>
    new SafeClient(policy.url).post('/api/auth/login', { email, password }, { 'x-forwarded-for': ip })

  it('3 failures from one address (on different accounts) → 429 for anyone from it; other addresses unaffected', async () => {
    const { email } = await userOn('test.local')
    const ip = '203.0.113.10'
    for (let i = 0; i < 3; i++) expect((await loginFrom(ip, uniqueEmail('spray'), 'wrong-password-9')).status).toBe(401)
    const blocked = await loginFrom(ip, email, GOOD_PASSWORD)
    expect(blocked.status).toBe(429)
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0)
    // a client cannot escape by prepending its own entries: the proxy's (last) entry counts
    expect((await loginFrom(`198.51.100.1, ${ip}`, email, GOOD_PASSWORD)).status).toBe(429)
    expect((await loginFrom('203.0.113.11', email, GOOD_PASSWORD)).status).toBe(200)
    expect((await loginFrom(`${ip}, 203.0.113.12`, email, GOOD_PASSWORD)).status).toBe(200)
  })

  it('successful sign-ins do not use up an address\'s budget (an office behind one NAT)', async () => {
    const { email } = await userOn('test.local')
    for (let i = 0; i < 6; i++) expect((await loginFrom('203.0.113.20', email, GOOD_PASSWORD)).status).toBe(200)
  })
})

describe('PUBLIC_ORIGIN https', () => {
  it('the session cookie is Secure, and the public origin passes the CSRF check', async () => {
    const { email } = await userOn('test.local')
    const res = await new SafeClient(policy.url).post('/api/auth/login', { email, password: GOOD_PASSWORD }, { origin: 'https://chat.empresa.example', 'x-forwarded-for': '203.0.113.30' })
    expect(res.status).toBe(200)
    const cookie = res.headers.getSetCookie().find(c => c.startsWith('energyapp_session='))!
    expect(cookie).toMatch(/;\s*Secure/i)
    expect(cookie).toMatch(/HttpOnly/i)
    const evil = await new SafeClient(policy.url).post('/api/auth/login', { email, password: GOOD_PASSWORD }, { origin: 'http://chat.empresa.example' })
    expect(evil.status).toBe(403)
  })
})
