import { describe, expect, it } from 'vitest'
import { SafeClient } from '../support/auth'
import { auditRows, dbQuery } from '../support/db'
import { GOOD_PASSWORD, uniqueEmail } from '../support/http'

describe('POST /api/auth/register', () => {
  it('201 {user} with role worker, lower-cased email, and a session cookie', async () => {
    const client = new SafeClient()
    const email = uniqueEmail('Reg').toUpperCase()
    const res = await client.post('/api/auth/register', { email, password: GOOD_PASSWORD, fullName: '  María José Pérez  ' })
    expect(res.status).toBe(201)
    expect(res.body.user).toMatchObject({ email: email.toLowerCase(), fullName: 'María José Pérez', role: 'worker', active: true, totpEnabled: false, supervisorId: null })
    expect(client.cookies.has('energyapp_session')).toBe(true)
    const me = await client.get('/api/auth/me')
    expect(me.status).toBe(200)
    expect(me.body.id).toBe(res.body.user.id)
    // the answer shows the activity the sign-up recorded, as /me does
    expect(res.body.user.lastActiveAt).toEqual(expect.any(String))
    expect(Date.parse(res.body.user.lastActiveAt)).toBeLessThanOrEqual(Date.parse(me.body.lastActiveAt))
    const [row] = await dbQuery<{ password_hash: string }>('select password_hash from users where id = ?', [res.body.user.id])
    expect(row!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    const [event] = await auditRows('auth.register', res.body.user.id)
    expect(event?.actor_id).toBe(res.body.user.id)
  })

  it('409 when the email exists, whatever its case', async () => {
    const email = uniqueEmail('dup')
    expect((await new SafeClient().post('/api/auth/register', { email, password: GOOD_PASSWORD, fullName: 'Uno' })).status).toBe(201)
    const again = await new SafeClient().post('/api/auth/register', { email: email.toUpperCase(), password: GOOD_PASSWORD, fullName: 'Dos' })
    expect(again.status).toBe(409)
    expect(again.body.message).toContain('email')
    const demo = await new SafeClient().post('/api/auth/register', { email: 'admin@example.com', password: GOOD_PASSWORD, fullName: 'Intruso' })
    expect(demo.status).toBe(409)
  })

  it('concurrent registrations of one email: one 201, the rest 409, never a 500', async () => {
    const email = uniqueEmail('race')
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) =>
      new SafeClient().post('/api/auth/register', { email, password: GOOD_PASSWORD, fullName: `Carrera ${i}` })))
    const statuses = results.map(r => r.status).sort()
    expect(statuses).toEqual([201, 409, 409, 409, 409, 409])
    expect(await dbQuery('select id from users where email = ?', [email])).toHaveLength(1)
  })

  it('403 for an email domain that may not register', async () => {
    const res = await new SafeClient().post('/api/auth/register', { email: `someone-${Date.now()}@evil.example`, password: GOOD_PASSWORD, fullName: 'X' })
    expect(res.status).toBe(403)
    expect(res.body.message).toContain('email')
    // a look-alike subdomain is not the allowed domain
    const sub = await new SafeClient().post('/api/auth/register', { email: `someone-${Date.now()}@evil.test.local`, password: GOOD_PASSWORD, fullName: 'X' })
    expect(sub.status).toBe(403)
  })

  it('400 for a weak password: short, common, or containing the email name', async () => {
    const email = uniqueEmail('weak')
    // each rule has its own stable code in data.reason, which the UI words (the message stays for logs and curl)
    const cases: Array<[string, RegExp, string]> = [
      ['short1', /10 characters/, 'password-too-short'],
      ['123456789', /10 characters/, 'password-too-short'],
      ['1234567890', /common/, 'password-common'],
      ['password123', /common/, 'password-common'],
      ['Contraseña1', /common/, 'password-common'],
      [`${email.split('@')[0]}-2024`, /email/, 'password-has-email'],
      ['aaaaaaaaaaaa', /different characters/, 'password-repetitive'],
      // characters as people count them: 5 emoji are 10 UTF-16 units but 5 characters
      ['😀😁😂🤣😃', /10 characters/, 'password-too-short'],
    ]
    for (const [password, why, reason] of cases) {
      const res = await new SafeClient().post('/api/auth/register', { email, password, fullName: 'Débil' })
      expect(res.status, password).toBe(400)
      expect(res.body.message).toMatch(/^password: /)
      expect(res.body.message).toMatch(why)
      expect(res.body.data.fields.password).toBeTruthy()
      expect(res.body.data.reason, password).toBe(reason)
    }
    expect(await dbQuery('select id from users where email = ?', [email])).toHaveLength(0)
  })

  it('the public config says registration is open here', async () => {
    expect((await new SafeClient().get('/api/config')).body.registrationOpen).toBe(true)
  })
})
