import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { SafeClient, signIn, signUp, totpCode } from '../support/auth'
import { DEMO } from '../support/http'
import { type RunningServer, startServer } from '../support/server'

// A second server on the same database where workers must enrol TOTP before using the app.
let strict: RunningServer

beforeAll(async () => {
  // a second server on the suite's database (the first has no REDIS_URL)
  strict = await startServer({ DATABASE_URL: inject('databaseUrl'), ALLOW_SHARED_DATABASE: '1', REQUIRE_2FA_ROLES: 'worker' })
})
afterAll(async () => { await strict?.stop() })

const expectEnrolFirst = (res: { status: number, body: any }) => {
  expect(res.status).toBe(403)
  expect(res.body.data?.reason).toBe('enrol-2fa')
}

describe('REQUIRE_2FA_ROLES=worker', () => {
  it('an unenrolled worker: /me works with mustEnrol2fa:true, other routes 403 until enrolled', async () => {
    const { client, email, password } = await signUp(strict.url)
    const me = await client.get('/api/auth/me')
    expect(me.status).toBe(200)
    expect(me.body).toMatchObject({ email, totpEnabled: false, mustEnrol2fa: true })
    expectEnrolFirst(await client.get('/api/auth/tokens'))
    expectEnrolFirst(await client.post('/api/auth/tokens', { name: 'x' }))
    expectEnrolFirst(await client.put('/api/auth/password', { currentPassword: password, newPassword: 'nueva-clave-segura-5' }))
    expectEnrolFirst(await client.get('/api/system-prompts'))
    // what enrolling needs stays open: the session list, sign-out, and the 2FA setup itself
    expect((await client.get('/api/auth/sessions')).status).toBe(200)
    const setup = await client.post('/api/auth/2fa/setup', { password })
    expect(setup.status).toBe(200)
    const enable = await client.post('/api/auth/2fa/enable', { code: await totpCode(setup.body.secret) })
    expect(enable.status).toBe(200)
    const after = await client.get('/api/auth/me')
    expect(after.body).toMatchObject({ totpEnabled: true, mustEnrol2fa: false })
    expect((await client.get('/api/auth/tokens')).status).toBe(200)
    // and the role may not turn it off again
    expect((await client.post('/api/auth/2fa/disable', { password, code: enable.body.recoveryCodes[0] })).status).toBe(403)
    expect((await client.post('/api/auth/logout')).status).toBe(204)
  })

  it('login still answers 200 with mustEnrol2fa:true so the app can send the worker to enrol', async () => {
    const { email, password } = await signUp()
    const res = await new SafeClient(strict.url).post('/api/auth/login', { email, password })
    expect(res.status).toBe(200)
    expect(res.body.user.mustEnrol2fa).toBe(true)
  })

  it('a worker\'s API token made before the rule cannot bypass it', async () => {
    const { client, password } = await signUp()
    const { token } = (await client.post('/api/auth/tokens', { password, name: 'antes' })).body
    const script = new SafeClient(strict.url)
    script.bearer = token
    expect((await script.get('/api/auth/me')).body.mustEnrol2fa).toBe(true)
    expectEnrolFirst(await script.get('/api/auth/tokens'))
  })

  it('roles not listed are unaffected', async () => {
    const admin = await signIn(DEMO.admin.email, DEMO.admin.password, strict.url)
    const me = await admin.get('/api/auth/me')
    expect(me.body.mustEnrol2fa).toBe(false)
    expect((await admin.get('/api/auth/tokens')).status).toBe(200)
  })
})
