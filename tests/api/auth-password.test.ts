import { describe, expect, it } from 'vitest'
import { SafeClient, signIn, signUp } from '../support/auth'
import { auditRows } from '../support/db'
import { DEMO } from '../support/http'

const NEW_PASSWORD = 'otra-clave-segura-77'

describe('PUT /api/auth/password', () => {
  it('204; the new password works, the old one does not; other sessions are revoked, this one kept', async () => {
    const { client, email, password, user } = await signUp()
    const phone = await signIn(email, password)
    const res = await client.put('/api/auth/password', { currentPassword: password, newPassword: NEW_PASSWORD })
    expect(res.status).toBe(204)
    expect(res.text).toBe('')
    expect((await client.get('/api/auth/me')).status).toBe(200)
    expect((await phone.get('/api/auth/me')).status).toBe(401)
    expect((await new SafeClient().post('/api/auth/login', { email, password })).status).toBe(401)
    expect((await new SafeClient().post('/api/auth/login', { email, password: NEW_PASSWORD })).status).toBe(200)
    const [event] = await auditRows('auth.password_changed', user.id)
    expect(event?.meta && JSON.stringify(event.meta)).toContain('revokedSessions')
    expect(JSON.stringify(event)).not.toContain(NEW_PASSWORD)
  })

  it('401 when the current password is wrong; nothing changes', async () => {
    const { client, email, password } = await signUp()
    const res = await client.put('/api/auth/password', { currentPassword: 'not-my-password-1', newPassword: NEW_PASSWORD })
    expect(res.status).toBe(401)
    expect(res.body.message).toContain('currentPassword')
    expect((await client.get('/api/auth/me')).status).toBe(200)
    expect((await new SafeClient().post('/api/auth/login', { email, password })).status).toBe(200)
  })

  it('400 naming newPassword when the new one is weak', async () => {
    const { client, password } = await signUp()
    for (const [weak, reason] of [['short', 'password-too-short'], ['qwerty123', 'password-too-short'], ['password123', 'password-common']]) {
      const res = await client.put('/api/auth/password', { currentPassword: password, newPassword: weak })
      expect(res.status, weak).toBe(400)
      expect(res.body.message).toMatch(/^newPassword: /)
      expect(res.body.data).toMatchObject({ reason, fields: { newPassword: expect.any(String) } })
    }
  })

  it('403 for the demo accounts, even with the right current password', async () => {
    const client = await signIn(DEMO.worker.email, DEMO.worker.password)
    const res = await client.put('/api/auth/password', { currentPassword: DEMO.worker.password, newPassword: NEW_PASSWORD })
    expect(res.status).toBe(403)
    expect((await new SafeClient().post('/api/auth/login', DEMO.worker)).status).toBe(200)
  })

  it('401 without a session', async () => {
    expect((await new SafeClient().put('/api/auth/password', { currentPassword: 'abcdefghijk', newPassword: NEW_PASSWORD })).status).toBe(401)
  })

  it('wrong current passwords are rate limited (a stolen session cannot guess the password)', async () => {
    const { client, password } = await signUp()
    let limited: Awaited<ReturnType<typeof client.put>> | undefined
    for (let i = 0; i < 12 && !limited; i++) {
      const res = await client.put('/api/auth/password', { currentPassword: `guess-number-${i}`, newPassword: NEW_PASSWORD })
      if (res.status === 429) limited = res
      else expect(res.status).toBe(401)
    }
    expect(limited?.status).toBe(429)
    expect(Number(limited!.headers.get('retry-after'))).toBeGreaterThan(0)
    // locked even with the right password
    expect((await client.put('/api/auth/password', { currentPassword: password, newPassword: NEW_PASSWORD })).status).toBe(429)
  })
})
