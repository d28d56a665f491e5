import { describe, expect, it } from 'vitest'
import { enrolTotp, SafeClient, signUp, totpCode } from '../support/auth'
import { auditRows, dbQuery, truthy } from '../support/db'

/** Signs in with the password and returns the 2FA challenge (the account has TOTP on). */
async function challengeFor(email: string, password: string) {
  const client = new SafeClient()
  const res = await client.post('/api/auth/login', { email, password })
  expect(res.status).toBe(202)
  return { client, challenge: res.body.challenge as string, res }
}

describe('POST /api/auth/2fa/setup', () => {
  it('answers secret, otpauth URL and QR SVG; TOTP is not active until enabled', async () => {
    const { client, email, password, user } = await signUp()
    const res = await client.post('/api/auth/2fa/setup', { password })
    expect(res.status).toBe(200)
    expect(await auditRows('auth.2fa_setup', user.id)).toHaveLength(1)
    expect(Object.keys(res.body).sort()).toEqual(['otpauthUrl', 'qrSvg', 'secret'])
    expect(res.body.secret).toMatch(/^[A-Z2-7]{16,}$/)
    expect(res.body.otpauthUrl).toMatch(/^otpauth:\/\/totp\//)
    expect(res.body.otpauthUrl).toContain(`secret=${res.body.secret}`)
    expect(res.body.otpauthUrl).toContain('issuer=EnergyApp')
    expect(res.body.qrSvg).toMatch(/^<svg[\s\S]*<\/svg>\s*$/)
    expect((await client.get('/api/auth/me')).body.totpEnabled).toBe(false)
    // still a one-step sign-in
    expect((await new SafeClient().post('/api/auth/login', { email, password })).status).toBe(200)
    // the secret is stored encrypted, not as given
    const [row] = await dbQuery<{ totp_secret: string }>('select totp_secret from users where email = ?', [email])
    expect(row!.totp_secret).toBeTruthy()
    expect(row!.totp_secret).not.toContain(res.body.secret)
  })

  it('401 with a wrong password, 401 without a session', async () => {
    const { client } = await signUp()
    const res = await client.post('/api/auth/2fa/setup', { password: 'wrong-password-1' })
    expect(res.status).toBe(401)
    expect(res.body.message).toContain('password')
    const me = (await client.get('/api/auth/me')).body
    const [failed] = await auditRows('auth.password_confirm_failed', me.id)
    expect(failed?.actor_id).toBe(me.id)
    expect((await new SafeClient().post('/api/auth/2fa/setup', { password: 'whatever-1' })).status).toBe(401)
  })

  it('409 once TOTP is enabled (disable it first)', async () => {
    const { client, password } = await signUp()
    await enrolTotp(client, password)
    expect((await client.post('/api/auth/2fa/setup', { password })).status).toBe(409)
  })
})

describe('POST /api/auth/2fa/enable', () => {
  it('400 for a wrong code, then 200 with 10 distinct recovery codes for the right one', async () => {
    const { client, password, user } = await signUp()
    const setup = await client.post('/api/auth/2fa/setup', { password })
    const wrongCode = String((Number(await totpCode(setup.body.secret)) + 1) % 1_000_000).padStart(6, '0')
    const wrong = await client.post('/api/auth/2fa/enable', { code: wrongCode })
    expect(wrong.status).toBe(400)
    expect(wrong.body.message).toContain('code')
    const res = await client.post('/api/auth/2fa/enable', { code: await totpCode(setup.body.secret) })
    expect(res.status).toBe(200)
    expect(res.body.recoveryCodes).toHaveLength(10)
    expect(new Set(res.body.recoveryCodes).size).toBe(10)
    for (const code of res.body.recoveryCodes) expect(code).toMatch(/^[a-z0-9-]{8,}$/)
    expect((await client.get('/api/auth/me')).body.totpEnabled).toBe(true)
    // recovery codes are stored hashed
    const rows = await dbQuery<{ code_hash: string }>('select code_hash from recovery_codes where user_id = ?', [user.id])
    expect(rows).toHaveLength(10)
    for (const row of rows) expect(res.body.recoveryCodes).not.toContain(row.code_hash)
    expect((await auditRows('auth.2fa_enabled', user.id))).toHaveLength(1)
  })

  it('400 when no setup was started', async () => {
    const { client } = await signUp()
    const res = await client.post('/api/auth/2fa/enable', { code: '123456' })
    expect(res.status).toBe(400)
    expect(res.body.message).toContain('code')
  })
})

describe('two-step sign-in', () => {
  it('login → 202 challenge without a cookie; verify-2fa with a TOTP code → 200 {user} + cookie', async () => {
    const { client, email, password } = await signUp()
    const { secret } = await enrolTotp(client, password)
    const { client: device, challenge, res } = await challengeFor(email, password)
    expect(res.body).toEqual({ twoFactorRequired: true, challenge })
    expect((await auditRows('auth.2fa_challenge', (await client.get('/api/auth/me')).body.id)).length).toBeGreaterThanOrEqual(1)
    expect(challenge.length).toBeGreaterThanOrEqual(20)
    expect(device.cookies.has('energyapp_session')).toBe(false)
    expect((await device.get('/api/auth/me')).status).toBe(401)
    const ok = await device.post('/api/auth/verify-2fa', { challenge, code: await totpCode(secret, 1) })
    expect(ok.status).toBe(200)
    expect(ok.body.user).toMatchObject({ email, totpEnabled: true })
    expect((await device.get('/api/auth/me')).status).toBe(200)
    // the challenge is single-use
    expect((await new SafeClient().post('/api/auth/verify-2fa', { challenge, code: await totpCode(secret, 1) })).status).toBe(401)
    // a challenge that was never issued, however short, is a bad challenge (401), not malformed input
    for (const bogus of ['x', 'bogus', 'a'.repeat(64)]) expect((await new SafeClient().post('/api/auth/verify-2fa', { challenge: bogus, code: '123456' })).status, bogus).toBe(401)
    expect((await new SafeClient().post('/api/auth/verify-2fa', { challenge: '', code: '123456' })).status).toBe(400)
  })

  it('a TOTP code is accepted once only: the code that enabled 2FA still signs in once (enrolling signs nobody in), then never again', async () => {
    const { client, email, password } = await signUp()
    const { secret, enablingCode } = await enrolTotp(client, password)
    const first = await challengeFor(email, password)
    const withEnablingCode = await first.client.post('/api/auth/verify-2fa', { challenge: first.challenge, code: enablingCode })
    expect(withEnablingCode.status).toBe(200)
    const again = await challengeFor(email, password)
    const replayEnable = await again.client.post('/api/auth/verify-2fa', { challenge: again.challenge, code: enablingCode })
    expect(replayEnable.status).toBe(401)
    const next = await totpCode(secret, 1)
    const ok = await again.client.post('/api/auth/verify-2fa', { challenge: again.challenge, code: next })
    expect(ok.status).toBe(200)
    const second = await challengeFor(email, password)
    const replay = await second.client.post('/api/auth/verify-2fa', { challenge: second.challenge, code: next })
    expect(replay.status).toBe(401)
    expect(replay.body.message).toMatch(/invalid/i)
  })

  it('2FA turned off right after enrolling, with the code that enabled it → 204', async () => {
    const { client, password } = await signUp()
    const { enablingCode } = await enrolTotp(client, password)
    expect((await client.get('/api/auth/me')).body.totpEnabled).toBe(true)
    expect((await client.post('/api/auth/2fa/disable', { password, code: enablingCode })).status).toBe(204)
    expect((await client.get('/api/auth/me')).body.totpEnabled).toBe(false)
  })

  it('two concurrent verifications with the same code: exactly one succeeds', async () => {
    const { client, email, password } = await signUp()
    const { secret } = await enrolTotp(client, password)
    const a = await challengeFor(email, password)
    const b = await challengeFor(email, password)
    const code = await totpCode(secret, 1)
    const results = await Promise.all([
      a.client.post('/api/auth/verify-2fa', { challenge: a.challenge, code }),
      b.client.post('/api/auth/verify-2fa', { challenge: b.challenge, code }),
    ])
    expect(results.map(r => r.status).sort()).toEqual([200, 401])
  })

  it('one challenge opens one session, even with two good codes sent at once', async () => {
    const { client, email, password } = await signUp()
    const { recoveryCodes } = await enrolTotp(client, password)
    const { client: device, challenge } = await challengeFor(email, password)
    const results = await Promise.all(recoveryCodes.slice(0, 2).map(code => device.post('/api/auth/verify-2fa', { challenge, code })))
    expect(results.map(r => r.status).sort()).toEqual([200, 401])
  })

  it('a recovery code works once, in any case and with or without the dash', async () => {
    const { client, email, password } = await signUp()
    const { recoveryCodes } = await enrolTotp(client, password)
    const first = await challengeFor(email, password)
    const ok = await first.client.post('/api/auth/verify-2fa', { challenge: first.challenge, code: recoveryCodes[0]!.toUpperCase() })
    expect(ok.status).toBe(200)
    const again = await challengeFor(email, password)
    expect((await again.client.post('/api/auth/verify-2fa', { challenge: again.challenge, code: recoveryCodes[0] })).status).toBe(401)
    const undashed = await again.client.post('/api/auth/verify-2fa', { challenge: again.challenge, code: recoveryCodes[1]!.replace('-', '') })
    expect(undashed.status).toBe(200)
  })

  it('login with totpCode in the same request → 200; a wrong totpCode → 401', async () => {
    const { client, email, password } = await signUp()
    const { secret, recoveryCodes } = await enrolTotp(client, password)
    const wrong = await new SafeClient().post('/api/auth/login', { email, password, totpCode: '000000' === await totpCode(secret, 1) ? '111111' : '000000' })
    expect(wrong.status).toBe(401)
    const res = await new SafeClient().post('/api/auth/login', { email, password, totpCode: await totpCode(secret, 1) })
    expect(res.status).toBe(200)
    expect(res.body.user.email).toBe(email)
    expect((await new SafeClient().post('/api/auth/login', { email, password, totpCode: recoveryCodes[3] })).status).toBe(200)
  })

  it('a wrong password never reveals that 2FA is on', async () => {
    const { client, email, password } = await signUp()
    await enrolTotp(client, password)
    const res = await new SafeClient().post('/api/auth/login', { email, password: 'wrong-password-2' })
    expect(res.status).toBe(401)
    expect(res.body.message).toBe('Invalid credentials')
  })

  it('401 for an unknown challenge and for a wrong code; after 5 wrong codes the challenge is dead', async () => {
    const { client, email, password } = await signUp()
    const { secret } = await enrolTotp(client, password)
    const unknown = await new SafeClient().post('/api/auth/verify-2fa', { challenge: 'x'.repeat(43), code: '123456' })
    expect(unknown.status).toBe(401)
    const { client: device, challenge } = await challengeFor(email, password)
    const good = await totpCode(secret, 1)
    const bad = good === '000000' ? '111111' : '000000'
    for (let i = 0; i < 5; i++) expect((await device.post('/api/auth/verify-2fa', { challenge, code: bad })).status).toBe(401)
    expect((await device.post('/api/auth/verify-2fa', { challenge, code: good })).status).toBe(401)
    expect((await device.get('/api/auth/me')).status).toBe(401)
  })
})

describe('POST /api/auth/2fa/disable', () => {
  it('401 wrong password, 400 wrong code, 204 with password + TOTP; then sign-in is one step again', async () => {
    const { client, email, password, user } = await signUp()
    const { secret } = await enrolTotp(client, password)
    expect((await client.post('/api/auth/2fa/disable', { password: 'wrong-password-3', code: await totpCode(secret, 1) })).status).toBe(401)
    const badCode = await client.post('/api/auth/2fa/disable', { password, code: 'aaaaa-bbbbb' })
    expect(badCode.status).toBe(400)
    expect(badCode.body.message).toContain('code')
    const res = await client.post('/api/auth/2fa/disable', { password, code: await totpCode(secret, 1) })
    expect(res.status).toBe(204)
    expect(res.text).toBe('')
    expect((await client.get('/api/auth/me')).body.totpEnabled).toBe(false)
    expect((await new SafeClient().post('/api/auth/login', { email, password })).status).toBe(200)
    const [row] = await dbQuery<{ totp_secret: string | null, totp_enabled: unknown }>('select totp_secret, totp_enabled from users where id = ?', [user.id])
    expect(row!.totp_secret).toBeNull()
    expect(truthy(row!.totp_enabled)).toBe(false)
    expect(await dbQuery('select id from recovery_codes where user_id = ?', [user.id])).toHaveLength(0)
    expect(await auditRows('auth.2fa_disabled', user.id)).toHaveLength(1)
  })

  it('a recovery code can disable 2FA', async () => {
    const { client, password } = await signUp()
    const { recoveryCodes } = await enrolTotp(client, password)
    expect((await client.post('/api/auth/2fa/disable', { password, code: recoveryCodes[9] })).status).toBe(204)
  })

  it('409 when 2FA is not enabled', async () => {
    const { client, password } = await signUp()
    expect((await client.post('/api/auth/2fa/disable', { password, code: '123456' })).status).toBe(409)
  })

  it('401 without a session', async () => {
    expect((await new SafeClient().post('/api/auth/2fa/disable', { password: 'whatever-12', code: '123456' })).status).toBe(401)
  })
})
