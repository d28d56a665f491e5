import { describe, expect, it } from 'vitest'
import { Client } from '../support/http'

describe('health and config', () => {
  it('GET /api/health answers ok with db ok and ollama down (no model server in this suite)', async () => {
    const res = await new Client().get('/api/health')
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ status: 'ok', db: 'ok', ollama: 'down' })
    expect(typeof res.body.version).toBe('string')
  })

  it('GET /api/config lists the demo accounts and public settings (models only when signed in: tests/security)', async () => {
    const res = await new Client().get('/api/config')
    expect(res.status).toBe(200)
    expect(res.body.registrationOpen).toBe(true)
    // the shared test server has no SMTP_URL
    expect(res.body.emailEnabled).toBe(false)
    expect(res.body.demoAccounts.map((a: any) => a.role).sort()).toEqual(['admin', 'supervisor', 'worker'])
    expect(res.body.defaultModel).toBe('qwen2.5:3b-instruct')
    expect(res.body.models).toBeUndefined()
    expect(res.body.maxMessageChars).toBeGreaterThan(0)
  })

  it('an unknown API path is a JSON 404, not the app shell', async () => {
    const res = await new Client().get('/api/does-not-exist')
    expect(res.status).toBe(404)
    expect(res.body).toMatchObject({ statusCode: 404 })
    expect(res.body.message).toMatch(/does-not-exist/)
  })

  it('API responses carry the security headers and no-store', async () => {
    const res = await new Client().get('/api/health')
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    expect(res.headers.get('referrer-policy')).toBeTruthy()
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'")
    expect(res.headers.get('cache-control')).toBe('no-store')
  })

  it('the app shell has a CSP that allows its own boot script by hash, not unsafe-inline', async () => {
    const client = new Client()
    for (const path of ['/', '/login']) {
      const res = await client.get(path)
      expect(res.status).toBe(200)
      const csp = res.headers.get('content-security-policy')!
      expect(csp).toContain("frame-ancestors 'none'")
      expect(csp).not.toContain("script-src 'self' 'unsafe-inline'")
      expect(csp).toMatch(/script-src 'self' 'sha256-/)
    }
  })
})
