import { describe, expect, it } from 'vitest'
import { enrolTotp, SafeClient, signUp, totpCode } from '../support/auth'
import { uniqueEmail } from '../support/http'

// The shared test server runs with the default per-account budget (10 failures / 15 min).
const fail = (email: string) => new SafeClient().post('/api/auth/login', { email, password: 'definitely-wrong-1' })

describe('per-account login limit', () => {
  it('after 10 failures even the right password gets 429 with Retry-After', async () => {
    const { email, password, client } = await signUp()
    for (let i = 0; i < 10; i++) expect((await fail(email)).status).toBe(401)
    const res = await new SafeClient().post('/api/auth/login', { email, password })
    expect(res.status).toBe(429)
    const retry = Number(res.headers.get('retry-after'))
    expect(Number.isInteger(retry)).toBe(true)
    expect(retry).toBeGreaterThan(0)
    expect(retry).toBeLessThanOrEqual(15 * 60)
    expect(res.body).toMatchObject({ statusCode: 429 })
    // the lock is per account: the session already open still works, other accounts still sign in
    expect((await client.get('/api/auth/me')).status).toBe(200)
    const other = await signUp()
    expect((await new SafeClient().post('/api/auth/login', { email: other.email, password: other.password })).status).toBe(200)
  })

  it('the lock does not depend on the email\'s case', async () => {
    const { email, password } = await signUp()
    for (let i = 0; i < 10; i++) expect((await fail(i % 2 ? email.toUpperCase() : email)).status).toBe(401)
    expect((await new SafeClient().post('/api/auth/login', { email: email.toUpperCase(), password })).status).toBe(429)
  })

  it('unknown emails lock the same way (no way to tell which accounts exist)', async () => {
    const email = uniqueEmail('ghost')
    for (let i = 0; i < 10; i++) expect((await fail(email)).status).toBe(401)
    expect((await fail(email)).status).toBe(429)
  })

  it('a successful sign-in clears the account\'s failures', async () => {
    const { email, password } = await signUp()
    for (let i = 0; i < 9; i++) await fail(email)
    expect((await new SafeClient().post('/api/auth/login', { email, password })).status).toBe(200)
    for (let i = 0; i < 9; i++) expect((await fail(email)).status).toBe(401)
    expect((await new SafeClient().post('/api/auth/login', { email, password })).status).toBe(200)
  })

  it('wrong 2FA codes count against the account too', async () => {
    const { client, email, password } = await signUp()
    const { secret } = await enrolTotp(client, password)
    const good = await totpCode(secret, 1)
    const bad = good === '000000' ? '111111' : '000000'
    for (let i = 0; i < 10; i++) {
      const res = await new SafeClient().post('/api/auth/login', { email, password, totpCode: bad })
      expect(res.status).toBe(401)
    }
    const res = await new SafeClient().post('/api/auth/login', { email, password, totpCode: good })
    expect(res.status).toBe(429)
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
  })

  it('concurrent wrong guesses cannot slip far past the budget', async () => {
    const { email, password } = await signUp()
    const results = await Promise.all(Array.from({ length: 20 }, () => fail(email)))
    const passed = results.filter(r => r.status === 401).length
    expect(passed).toBeGreaterThanOrEqual(10)
    expect(passed).toBeLessThanOrEqual(12)
    expect(results.filter(r => r.status === 429).length).toBe(20 - passed)
    expect((await new SafeClient().post('/api/auth/login', { email, password })).status).toBe(429)
  })
})
