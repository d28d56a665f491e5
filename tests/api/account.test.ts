import { createHash } from 'node:crypto'
import { uuidv7 } from 'uuidv7'
import { beforeAll, describe, expect, inject, it } from 'vitest'
import { signUp } from '../support/auth'
import { Client, DEMO, GOOD_PASSWORD, uniqueEmail } from '../support/http'
import { createTestDatabase, startServer, TEST_ENV } from '../support/server'
import { auditCount, demoAdmin, makeUser, ownServer, sqlRun } from './admin-support'

/** API.md "Auth": temporary passwords, API tokens, the own profile, the phone number, the 2FA policy, team defaults. */

let admin: Client
beforeAll(async () => { admin = await demoAdmin() })

const NEW_PASSWORD = 'otra-clave-segura-42'

function bearer(token: string) {
  const client = new Client()
  client.bearer = token
  return client
}

async function newToken(client: Client, password = GOOD_PASSWORD) {
  const res = await client.post('/api/auth/tokens', { password, name: 'script' })
  expect(res.status, res.text).toBe(201)
  return bearer(res.body.token)
}

describe('GET /api/auth/session (the app\'s sign-in probe)', () => {
  it('answers 200 {user: null} signed out, the same user as /api/auth/me signed in, and null again after logout', async () => {
    const client = new Client()
    const out = await client.get('/api/auth/session')
    expect(out.status).toBe(200)
    expect(out.body).toEqual({ user: null })
    expect((await client.get('/api/auth/me')).status).toBe(401)
    await client.login(DEMO.worker.email, DEMO.worker.password)
    const signedIn = await client.get('/api/auth/session')
    expect(signedIn.status).toBe(200)
    expect(signedIn.body.user).toEqual((await client.get('/api/auth/me')).body)
    expect(signedIn.body.user.passwordHash).toBeUndefined()
    await client.post('/api/auth/logout')
    expect((await client.get('/api/auth/session')).body).toEqual({ user: null })
  })
})

describe('mustChangePassword (temporary passwords)', () => {
  it('an admin-created account is held: 403 reason change-password everywhere but me, password and logout, until it changes the password', async () => {
    const email = uniqueEmail('temp')
    const created = await admin.post('/api/admin/users', { email, fullName: 'Temporal', role: 'worker' })
    expect(created.status).toBe(201)
    expect(created.body.user.mustChangePassword).toBe(true)
    const client = new Client()
    const user = await client.login(email, created.body.temporaryPassword)
    expect(user.mustChangePassword).toBe(true)

    for (const [method, path, body] of [['GET', '/api/conversations'], ['POST', '/api/conversations', {}], ['GET', '/api/auth/sessions'], ['GET', '/api/system-prompts'], ['POST', '/api/chat', { message: 'hola' }]] as const) {
      const res = await client.request(path, { method, body })
      expect(res.status, `${method} ${path}`).toBe(403)
      expect(res.body.data?.reason).toBe('change-password')
    }
    expect((await client.get('/api/auth/me')).status).toBe(200)
    expect((await client.put('/api/auth/me', { bio: 'nuevo' })).status).toBe(200)

    const changed = await client.put('/api/auth/password', { currentPassword: created.body.temporaryPassword, newPassword: NEW_PASSWORD })
    expect(changed.status).toBe(204)
    expect((await client.get('/api/auth/me')).body.mustChangePassword).toBe(false)
    expect((await client.get('/api/conversations')).status).toBe(200)
  })

  it('a given password is temporary too, unless the admin says mustChangePassword:false', async () => {
    for (const [flag, held] of [[undefined, true], [true, true], [false, false]] as const) {
      const email = uniqueEmail('given')
      const res = await admin.post('/api/admin/users', { email, fullName: 'Dada', role: 'worker', password: GOOD_PASSWORD, ...(flag === undefined ? {} : { mustChangePassword: flag }) })
      expect(res.body.user.mustChangePassword, String(flag)).toBe(held)
    }
    expect((await admin.post('/api/admin/users', { email: uniqueEmail(), fullName: 'X', role: 'worker', mustChangePassword: 'no' })).status).toBe(400)
  })

  it('an admin reset sets it again; logout still works while held', async () => {
    const worker = await makeUser(admin, 'worker')
    const reset = await admin.post(`/api/admin/users/${worker.id}/reset-password`)
    const client = new Client()
    expect((await client.login(worker.email, reset.body.temporaryPassword)).mustChangePassword).toBe(true)
    expect((await client.get('/api/auth/tokens')).status).toBe(403)
    expect((await client.post('/api/auth/logout')).status).toBe(204)
    expect((await client.get('/api/auth/me')).status).toBe(401)
  })

  it('a held user who must also enrol 2FA can change the password first, then is held for 2FA', async () => {
    const server = await ownServer({ REQUIRE_2FA_ROLES: 'worker' })
    try {
      const a = new Client(server.url)
      await a.login(DEMO.admin.email, DEMO.admin.password)
      const email = uniqueEmail('both')
      const created = await a.post('/api/admin/users', { email, fullName: 'Ambos', role: 'worker' })
      const client = new Client(server.url)
      await client.login(email, created.body.temporaryPassword)
      expect((await client.post('/api/auth/2fa/setup', { password: created.body.temporaryPassword })).body.data?.reason).toBe('change-password')
      expect((await client.put('/api/auth/password', { currentPassword: created.body.temporaryPassword, newPassword: NEW_PASSWORD })).status).toBe(204)
      expect((await client.get('/api/conversations')).body.data?.reason).toBe('enrol-2fa')
      expect((await client.post('/api/auth/2fa/setup', { password: NEW_PASSWORD })).status).toBe(200)
    }
    finally { await server.stop() }
  }, 90_000)
})

describe('API tokens', () => {
  it('POST needs the password: missing → 400 naming password, wrong → 401 and no token', async () => {
    const { client } = await signUp()
    const missing = await client.post('/api/auth/tokens', { name: 'x' })
    expect(missing.status).toBe(400)
    expect(missing.body.message).toMatch(/^password/)
    const wrong = await client.post('/api/auth/tokens', { name: 'x', password: 'not-my-password' })
    expect(wrong.status).toBe(401)
    expect(wrong.body.message).toMatch(/^password/)
    expect((await client.get('/api/auth/tokens')).body.data).toEqual([])
  })

  it('every token stops working when the user changes the password', async () => {
    const { client } = await signUp()
    const [one, two] = [await newToken(client), await newToken(client)]
    expect((await one.get('/api/auth/me')).status).toBe(200)
    expect((await client.put('/api/auth/password', { currentPassword: GOOD_PASSWORD, newPassword: NEW_PASSWORD })).status).toBe(204)
    expect((await one.get('/api/auth/me')).status).toBe(401)
    expect((await two.get('/api/auth/me')).status).toBe(401)
    expect((await client.get('/api/auth/tokens')).body.data).toEqual([])
  })

  it('… on logout-all', async () => {
    const { client } = await signUp()
    const token = await newToken(client)
    expect((await client.post('/api/auth/logout-all')).status).toBe(204)
    expect((await token.get('/api/auth/me')).status).toBe(401)
  })

  it('… on an admin reset', async () => {
    const worker = await makeUser(admin, 'worker')
    const token = await newToken(worker.client)
    expect((await admin.post(`/api/admin/users/${worker.id}/reset-password`)).status).toBe(200)
    expect((await token.get('/api/auth/me')).status).toBe(401)
  })

  it('… on deactivation, and they do not come back on reactivation', async () => {
    const worker = await makeUser(admin, 'worker')
    const token = await newToken(worker.client)
    expect((await admin.patch(`/api/admin/users/${worker.id}`, { active: false })).status).toBe(200)
    expect((await token.get('/api/auth/me')).status).toBe(401)
    expect((await admin.patch(`/api/admin/users/${worker.id}`, { active: true })).status).toBe(200)
    expect((await token.get('/api/auth/me')).status).toBe(401)
  })

  it('at most 50 per user: the 51st → 409 with a clear message; deleting one makes room', async () => {
    const { client, user } = await signUp()
    for (let i = 0; i < 49; i++)
      await sqlRun('insert into api_tokens (id, user_id, name, token_hash, created_at) values (?, ?, ?, ?, ?)', [uuidv7(), user.id, `t${i}`, `cap-${uuidv7()}`, new Date()])
    await newToken(client)
    const over = await client.post('/api/auth/tokens', { password: GOOD_PASSWORD, name: 'uno más' })
    expect(over.status).toBe(409)
    expect(over.body.message).toMatch(/50/)
    const first = (await client.get('/api/auth/tokens')).body.data.at(-1)
    expect((await client.delete(`/api/auth/tokens/${first.id}`)).status).toBe(204)
    await newToken(client)
  })
})

describe('PUT /api/auth/me', () => {
  it('changes name, bio and preferences (merged); 200 user; audited', async () => {
    const { client, user } = await signUp()
    const res = await client.put('/api/auth/me', { fullName: '  Ana Pérez ', bio: 'Turno noche', preferences: { theme: 'dark', customInstructions: 'Responde breve' } })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id: user.id, fullName: 'Ana Pérez', bio: 'Turno noche', preferences: { theme: 'dark', defaultModel: null, customInstructions: 'Responde breve' } })
    const again = await client.put('/api/auth/me', { preferences: { defaultModel: 'llama3.2:1b' } })
    expect(again.body.preferences).toEqual({ theme: 'dark', defaultModel: 'llama3.2:1b', customInstructions: 'Responde breve' })
    expect((await client.get('/api/auth/me')).body.bio).toBe('Turno noche')
    expect(await auditCount('auth.profile_updated', user.id)).toBe(2)
  })

  it('nothing else can be changed here: role, email, permissions, unknown fields → 400 naming them', async () => {
    const { client } = await signUp()
    const cases: Array<[unknown, string]> = [
      [{ role: 'admin' }, 'role'],
      [{ email: uniqueEmail() }, 'email'],
      [{ permissions: ['roles.manage'] }, 'permissions'],
      [{ fullName: '' }, 'fullName'],
      [{ bio: 'x'.repeat(1001) }, 'bio'],
      [{ preferences: { theme: 'pink' } }, 'preferences.theme'],
      [{ preferences: { customInstructions: 'x'.repeat(2001) } }, 'preferences.customInstructions'],
      [{ preferences: { admin: true } }, 'preferences.admin'],
    ]
    for (const [body, field] of cases) {
      const res = await client.put('/api/auth/me', body)
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(400)
      expect(res.body.message).toMatch(new RegExp(`^${field.replace('.', '\\.')}`))
    }
    expect((await client.get('/api/auth/me')).body.role).toBe('worker')
    expect((await new Client().put('/api/auth/me', { bio: 'x' })).status).toBe(401)
  })
})

describe('phone self-service', () => {
  let n = 0
  const phone = () => `+5691${String((Date.now() + ++n) % 1e7).padStart(7, '0')}`
  const hash = (userId: string, code: string) => createHash('sha256').update(`${TEST_ENV.SESSION_SECRET}:phone:${userId}:${code}`).digest('hex')
  const pendingCode = (userId: string, number: string, code: string, minutes = 10) =>
    sqlRun('insert into phone_codes (id, user_id, phone, code_hash, attempts, expires_at, created_at) values (?, ?, ?, ?, ?, ?, ?)',
      [uuidv7(), userId, number, hash(userId, code), 0, new Date(Date.now() + minutes * 60_000), new Date()])

  it('PUT /api/auth/me/phone → 409 while SMS is not configured; malformed → 400 naming phone', async () => {
    const { client } = await signUp()
    const res = await client.put('/api/auth/me/phone', { phone: phone() })
    expect(res.status).toBe(409)
    expect(res.body.message).toMatch(/SMS/)
    for (const bad of ['12345', '+56-abc', '', 5691234]) {
      const r = await client.put('/api/auth/me/phone', { phone: bad })
      expect(r.status, String(bad)).toBe(400)
      expect(r.body.message).toMatch(/^phone/)
    }
    expect((await client.get('/api/auth/me')).body).toMatchObject({ phone: null, phoneVerified: false })
  })

  it('the right code verifies the number (200 user, phoneVerified); the code works once', async () => {
    const { client, user } = await signUp()
    const number = phone()
    await pendingCode(user.id, number, '123456')
    const res = await client.post('/api/auth/me/phone/verify', { code: '123456' })
    expect(res.status, res.text).toBe(200)
    expect(res.body).toMatchObject({ phone: number, phoneVerified: true })
    expect((await client.post('/api/auth/me/phone/verify', { code: '123456' })).status).toBe(400)
    expect(await auditCount('auth.phone_verified', user.id)).toBe(1)
  })

  it('5 wrong codes end the attempt (even the right code is then refused); an expired code → 400', async () => {
    const { client, user } = await signUp()
    await pendingCode(user.id, phone(), '654321')
    for (let i = 0; i < 5; i++) {
      const res = await client.post('/api/auth/me/phone/verify', { code: '000000' })
      expect(res.status).toBe(400)
      expect(res.body.message).toMatch(/^code/)
    }
    expect((await client.post('/api/auth/me/phone/verify', { code: '654321' })).status).toBe(400)

    const late = await signUp()
    await pendingCode(late.user.id, phone(), '111111', -1)
    expect((await late.client.post('/api/auth/me/phone/verify', { code: '111111' })).status).toBe(400)
    expect((await late.client.get('/api/auth/me')).body.phoneVerified).toBe(false)
    expect((await late.client.post('/api/auth/me/phone/verify', { code: '12' })).status).toBe(400)
  })

  it('tries sent at once count one by one: 20 wrong codes in parallel end the attempt, and the right code is refused after', async () => {
    const { client, user } = await signUp()
    await pendingCode(user.id, phone(), '246810')
    const wrong = await Promise.all(Array.from({ length: 20 }, () => client.post('/api/auth/me/phone/verify', { code: '000000' })))
    expect(wrong.map(r => r.status)).toEqual(Array(20).fill(400))
    const right = await client.post('/api/auth/me/phone/verify', { code: '246810' })
    expect(right.status, right.text).toBe(400)
    expect((await client.get('/api/auth/me')).body).toMatchObject({ phone: null, phoneVerified: false })
  })

  it('a number verified by another account meanwhile → 409', async () => {
    const owner = await makeUser(admin, 'worker')
    const number = phone()
    expect((await admin.post(`/api/admin/users/${owner.id}/phone`, { phone: number })).status).toBe(200)
    const { client, user } = await signUp()
    await pendingCode(user.id, number, '222222')
    expect((await client.post('/api/auth/me/phone/verify', { code: '222222' })).status).toBe(409)
    expect((await client.put('/api/auth/me/phone', { phone: number })).status).toBe(409)
  })

  it('DELETE /api/auth/me/phone → 204 and the number is gone', async () => {
    const worker = await makeUser(admin, 'worker')
    await admin.post(`/api/admin/users/${worker.id}/phone`, { phone: phone() })
    expect((await worker.client.delete('/api/auth/me/phone')).status).toBe(204)
    expect((await worker.client.get('/api/auth/me')).body).toMatchObject({ phone: null, phoneVerified: false })
  })
})

describe('2FA policy: REQUIRE_2FA_ROLES wins over TOTP_SELF_SERVICE_DOMAINS', () => {
  it('a required user outside the self-service domains may still enrol; an optional one may not; the start-up log says so', async () => {
    const db = await createTestDatabase(inject('dbKind'))
    const running = await startServer({ DATABASE_URL: db.url, LOG_LEVEL: 'info', REQUIRE_2FA_ROLES: 'supervisor', TOTP_SELF_SERVICE_DOMAINS: 'elsewhere.example' })
    const server = { url: running.url, stop: async () => { await running.stop(); await db.drop() } }
    try {
      const policy = running.output().split('\n').find(line => line.includes('"msg":"2fa policy"'))
      expect(policy).toBeTruthy()
      expect(JSON.parse(policy!)).toMatchObject({ required: ['supervisor'], selfService: ['elsewhere.example'], decision: expect.stringContaining('REQUIRE_2FA_ROLES wins') })
      const a = new Client(server.url)
      await a.login(DEMO.admin.email, DEMO.admin.password)
      const email = uniqueEmail('required')
      await a.post('/api/admin/users', { email, fullName: 'Obligado', role: 'supervisor', password: GOOD_PASSWORD, mustChangePassword: false })
      const required = new Client(server.url)
      await required.login(email, GOOD_PASSWORD)
      expect((await required.get('/api/conversations')).body.data?.reason).toBe('enrol-2fa')
      expect((await required.post('/api/auth/2fa/setup', { password: GOOD_PASSWORD })).status).toBe(200)
      const optional = await signUp(server.url)
      expect((await optional.client.post('/api/auth/2fa/setup', { password: GOOD_PASSWORD })).status).toBe(403)
    }
    finally { await server.stop() }
  }, 90_000)
})

describe('team membership', () => {
  it('a new sign-up gets the default supervisor of their email domain; bulk assignment sets one for many', async () => {
    const server = await ownServer({ REGISTRATION_DOMAINS: 'team.example,test.local' })
    try {
      const a = new Client(server.url)
      await a.login(DEMO.admin.email, DEMO.admin.password)
      const sup = await a.post('/api/admin/users', { email: uniqueEmail('sup'), fullName: 'Jefa', role: 'supervisor', password: GOOD_PASSWORD, mustChangePassword: false })
      const supervisorId = sup.body.user.id
      const bad = await a.put('/api/admin/team-defaults', { signupSupervisors: [{ domain: 'team.example', supervisorId: (await a.get('/api/auth/me')).body.id }, { domain: 'team.example', supervisorId }] })
      expect(bad.status).toBe(400)
      const saved = await a.put('/api/admin/team-defaults', { signupSupervisors: [{ domain: 'Team.Example', supervisorId }] })
      expect(saved.status).toBe(200)
      expect((await a.get('/api/admin/team-defaults')).body).toEqual({ signupSupervisors: [{ domain: 'team.example', supervisorId }] })

      const inTeam = await new Client(server.url).post('/api/auth/register', { email: `ana-${Date.now()}@team.example`, password: GOOD_PASSWORD, fullName: 'Ana' })
      expect(inTeam.body.user.supervisorId).toBe(supervisorId)
      const outside = await signUp(server.url)
      expect((await a.get(`/api/admin/users/${outside.user.id}`)).body.supervisorId).toBeNull()

      const worker = (await a.post('/api/admin/users', { email: uniqueEmail('w'), fullName: 'W', role: 'worker' })).body.user
      const bulk = await a.put('/api/admin/users/supervisor', { userIds: [outside.user.id, worker.id], supervisorId })
      expect(bulk.status).toBe(200)
      expect(bulk.body).toEqual({ updated: 2 })
      expect((await a.get(`/api/admin/users/${worker.id}`)).body.supervisorId).toBe(supervisorId)
      expect((await a.put('/api/admin/users/supervisor', { userIds: [worker.id], supervisorId: worker.id })).status).toBe(400)
      expect((await a.put('/api/admin/users/supervisor', { userIds: [], supervisorId })).status).toBe(400)
      expect((await outside.client.put('/api/admin/users/supervisor', { userIds: [worker.id], supervisorId: null })).status).toBe(403)
    }
    finally { await server.stop() }
  }, 90_000)
})
