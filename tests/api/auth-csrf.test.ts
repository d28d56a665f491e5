import { describe, expect, inject, it } from 'vitest'
import { SafeClient, signUp } from '../support/auth'

const EVIL = 'http://evil.example'

describe('CSRF: state-changing requests with a foreign Origin are refused', () => {
  it('login with Origin: evil → 403 and no cookie; own origin → 200; no Origin → 200', async () => {
    const { email, password } = await signUp()
    const evil = new SafeClient()
    const refused = await evil.post('/api/auth/login', { email, password }, { origin: EVIL })
    expect(refused.status).toBe(403)
    expect(evil.cookies.size).toBe(0)
    const own = await new SafeClient().post('/api/auth/login', { email, password }, { origin: inject('baseUrl') })
    expect(own.status).toBe(200)
    const script = await new SafeClient().post('/api/auth/login', { email, password })
    expect(script.status).toBe(200)
  })

  it('a signed-in browser cannot be made to log out, revoke, create tokens or change its password cross-site', async () => {
    const { client, password } = await signUp()
    const sessionId = (await client.get('/api/auth/sessions')).body.data[0].id
    const attempts = [
      client.request('/api/auth/logout', { method: 'POST', headers: { origin: EVIL } }),
      client.request('/api/auth/logout-all', { method: 'POST', headers: { origin: EVIL } }),
      client.request(`/api/auth/sessions/${sessionId}`, { method: 'DELETE', headers: { origin: EVIL } }),
      client.request('/api/auth/tokens', { method: 'POST', body: { password, name: 'stolen' }, headers: { origin: EVIL } }),
      client.request('/api/auth/password', { method: 'PUT', body: { currentPassword: password, newPassword: 'pwned-password-99' }, headers: { origin: EVIL } }),
      client.request('/api/auth/2fa/setup', { method: 'POST', body: { password }, headers: { origin: EVIL } }),
    ]
    for (const res of await Promise.all(attempts)) {
      expect(res.status).toBe(403)
      expect(res.body.message).toMatch(/origin/i)
    }
    expect((await client.get('/api/auth/me')).status).toBe(200)
    expect((await client.get('/api/auth/tokens')).body.data).toEqual([])
  })

  it('look-alike origins are refused too', async () => {
    const base = inject('baseUrl')
    for (const origin of ['null', `${base}.evil.example`, base.replace('http:', 'https:').replace(/:\d+$/, ':1'), `http://evil.example/${base}`]) {
      const res = await new SafeClient().post('/api/auth/logout', undefined, { origin })
      expect(res.status, origin).toBe(403)
    }
  })

  it('GET requests are not blocked by a foreign Origin (they change nothing)', async () => {
    const { client } = await signUp()
    expect((await client.get('/api/auth/me', { origin: EVIL })).status).toBe(200)
  })
})
