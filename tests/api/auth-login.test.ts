import { describe, expect, it } from 'vitest'
import { SafeClient, signUp } from '../support/auth'
import { auditRows, metaOf, setUserActive } from '../support/db'
import { DEMO, GOOD_PASSWORD, uniqueEmail } from '../support/http'

const USER_KEYS = ['active', 'createdAt', 'email', 'fullName', 'id', 'lastActiveAt', 'role', 'supervisorId', 'totpEnabled']

async function timed(fn: () => Promise<unknown>) {
  const start = performance.now()
  await fn()
  return performance.now() - start
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

describe('POST /api/auth/login', () => {
  it('right password → 200 {user} and an HttpOnly SameSite=Lax session cookie', async () => {
    const { email, password } = await signUp()
    const client = new SafeClient()
    const res = await client.post('/api/auth/login', { email, password })
    expect(res.status).toBe(200)
    expect(Object.keys(res.body)).toEqual(['user'])
    for (const key of USER_KEYS) expect(res.body.user).toHaveProperty(key)
    expect(res.body.user).toMatchObject({ email, role: 'worker', active: true, totpEnabled: false, supervisorId: null })
    expect(new Date(res.body.user.createdAt).toISOString()).toBe(res.body.user.createdAt)
    const cookie = res.headers.getSetCookie().find(c => c.startsWith('energyapp_session='))!
    expect(cookie).toMatch(/HttpOnly/i)
    expect(cookie).toMatch(/SameSite=Lax/i)
    expect(cookie).toMatch(/Path=\//i)
    expect(cookie).not.toMatch(/Secure/i) // the test origin is plain http
    const me = await client.get('/api/auth/me')
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({ id: res.body.user.id, email })
  })

  it('email is matched case-insensitively and trimmed', async () => {
    const { email, password } = await signUp()
    const res = await new SafeClient().post('/api/auth/login', { email: `  ${email.toUpperCase()} `, password })
    expect(res.status).toBe(200)
    expect(res.body.user.email).toBe(email)
  })

  it('each sign-in gets a new session id (no fixation)', async () => {
    const { email, password } = await signUp()
    const client = new SafeClient()
    await client.login(email, password)
    const first = client.cookies.get('energyapp_session')
    await client.login(email, password)
    const second = client.cookies.get('energyapp_session')
    expect(second).toBeTruthy()
    expect(second).not.toBe(first)
    const stale = new SafeClient()
    stale.cookies.set('energyapp_session', first!)
    expect((await stale.get('/api/auth/me')).status).toBe(200) // the old session is separate, still listed
    const sessions = await client.get('/api/auth/sessions')
    expect(sessions.body.data.length).toBeGreaterThanOrEqual(3)
  })

  it('unknown email and wrong password → the same 401 "Invalid credentials"', async () => {
    const { email } = await signUp()
    const wrong = await new SafeClient().post('/api/auth/login', { email, password: 'not-the-password-1' })
    const unknown = await new SafeClient().post('/api/auth/login', { email: uniqueEmail('nobody'), password: 'not-the-password-1' })
    expect(wrong.status).toBe(401)
    expect(unknown.status).toBe(401)
    expect(wrong.body).toEqual({ statusCode: 401, message: 'Invalid credentials' })
    expect(unknown.body).toEqual(wrong.body)
    expect(wrong.headers.getSetCookie().some(c => c.startsWith('energyapp_session=') && !/max-age=0/i.test(c))).toBe(false)
  })

  it('unknown email takes about as long as a wrong password (a hash is verified either way)', async () => {
    const { email } = await signUp()
    const client = new SafeClient()
    const wrong: number[] = []
    const unknown: number[] = []
    for (let i = 0; i < 4; i++) {
      wrong.push(await timed(() => client.post('/api/auth/login', { email, password: `wrong-password-${i}` })))
      unknown.push(await timed(() => client.post('/api/auth/login', { email: uniqueEmail('ghost'), password: `wrong-password-${i}` })))
    }
    // without the dummy verification an unknown email answers in ~1 ms against ~20–50 ms
    expect(median(unknown)).toBeGreaterThan(median(wrong) * 0.3)
  })

  it('disabled account: 403 after the right password, the same 401 after a wrong one', async () => {
    const { email, password, client } = await signUp()
    await setUserActive(email, false)
    const right = await new SafeClient().post('/api/auth/login', { email, password })
    expect(right.status).toBe(403)
    expect(right.body.message).toMatch(/disabled/i)
    const wrong = await new SafeClient().post('/api/auth/login', { email, password: 'wrong-password-x' })
    expect(wrong.status).toBe(401)
    expect(wrong.body.message).toBe('Invalid credentials')
    // the session opened before the account was disabled stops working at once
    expect((await client.get('/api/auth/me')).status).toBe(401)
    await setUserActive(email, true)
    expect((await new SafeClient().post('/api/auth/login', { email, password })).status).toBe(200)
  })

  it('demo accounts sign in with their documented passwords', async () => {
    for (const [role, account] of Object.entries(DEMO)) {
      const res = await new SafeClient().post('/api/auth/login', account)
      expect(res.status, role).toBe(200)
      expect(res.body.user.role).toBe(role)
    }
  })

  it('a 10 KB password is refused as bad input, not hashed', async () => {
    const res = await new SafeClient().post('/api/auth/login', { email: uniqueEmail(), password: 'x'.repeat(10_000) })
    expect(res.status).toBe(400)
    expect(res.body.message).toContain('password')
  })

  it('sign-in and failures are audit events with ip and user agent', async () => {
    const { email, password, user } = await signUp()
    await new SafeClient().post('/api/auth/login', { email, password: 'wrong-password-audit' })
    await new SafeClient().request('/api/auth/login', { method: 'POST', body: { email, password }, headers: { 'user-agent': 'audit-test/1.0' } })
    const failed = (await auditRows('auth.login_failed')).filter(r => r.actor_id === user.id)
    expect(failed).toHaveLength(1)
    expect(metaOf(failed[0]!)).toMatchObject({ reason: 'wrong-password' })
    const ok = (await auditRows('auth.login')).filter(r => r.actor_id === user.id)
    expect(ok).toHaveLength(1)
    expect(ok[0]).toMatchObject({ target_type: 'session', user_agent: 'audit-test/1.0', ip: '127.0.0.1' })
    expect(metaOf(ok[0]!)).toMatchObject({ method: 'password' })
    // failures record no password
    expect(JSON.stringify(failed)).not.toContain('wrong-password-audit')
  })
})

describe('GET /api/auth/me', () => {
  it('401 without a cookie', async () => {
    const res = await new SafeClient().get('/api/auth/me')
    expect(res.status).toBe(401)
    expect(res.body).toMatchObject({ statusCode: 401 })
  })

  it('401 with a tampered, truncated or foreign cookie', async () => {
    const { client } = await signUp()
    const sealed = client.cookies.get('energyapp_session')!
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1)
    for (const value of [flip(sealed, Math.floor(sealed.length / 2)), flip(sealed, sealed.length - 3), sealed.slice(0, -10), 'garbage', 'Fe26.2**x*y*z', 'x'.repeat(5000)]) {
      const c = new SafeClient()
      c.cookies.set('energyapp_session', value)
      const res = await c.get('/api/auth/me')
      expect(res.status, value.slice(0, 40)).toBe(401)
    }
    expect((await client.get('/api/auth/me')).status).toBe(200)
  })

  it('answers the user shape and updates lastActiveAt', async () => {
    const { client, email } = await signUp()
    const res = await client.get('/api/auth/me')
    expect(res.status).toBe(200)
    for (const key of USER_KEYS) expect(res.body).toHaveProperty(key)
    expect(res.body.email).toBe(email)
    expect(typeof res.body.lastActiveAt).toBe('string')
  })
})

describe('registering and signing in use the same password rules', () => {
  it('a user registered with a strong password can sign in with it on a fresh client', async () => {
    const email = uniqueEmail()
    const reg = await new SafeClient().post('/api/auth/register', { email, password: GOOD_PASSWORD, fullName: 'Ana' })
    expect(reg.status).toBe(201)
    expect((await new SafeClient().post('/api/auth/login', { email, password: GOOD_PASSWORD })).status).toBe(200)
  })
})
