import { beforeAll, describe, expect, it } from 'vitest'
import { expectFieldError } from '../support/auth'
import { type Client, newWorker } from '../support/http'
import { auditCount, demoAdmin, makeUser } from './admin-support'

// Edges of API.md "Auth", "Admin" and "Health and config" found by probing the built server: bad input is a 400
// naming its field, never a 500 nor a silent success; machine routes never answer with the app shell.

let admin: Client
beforeAll(async () => { admin = await demoAdmin() })

describe('GET /api/admin/audit dates', () => {
  it('a day the calendar lacks (2025-02-30, 2025-04-31) → 400 naming the field, not a date rolled over into the next month', async () => {
    for (const query of ['from=2025-02-30', 'to=2025-04-31', 'from=2025-02-29T10:00:00Z']) {
      const field = query.split('=')[0]!
      expectFieldError(await admin.get(`/api/admin/audit?${query}`), field)
      expectFieldError(await admin.get(`/api/admin/audit.csv?${query}`), field)
    }
    expect((await admin.get('/api/admin/audit?from=2024-02-29&limit=1')).status).toBe(200)
  })

  it('the last day of the year 9999 is answered; an instant past it → 400 naming the field, never a 500 (PostgreSQL refused "+010000-…")', async () => {
    for (const query of ['to=9999-12-31', 'from=9999-12-31', 'to=9999-12-31T23:59:59.999Z']) {
      const res = await admin.get(`/api/admin/audit?${query}&limit=1`)
      expect(res.status, `${query} ${res.text}`).toBe(200)
      expect((await admin.get(`/api/admin/audit.csv?${query}`)).status).toBe(200)
    }
    expect((await admin.get('/api/admin/audit?to=9999-12-31&limit=1')).body.total).toBeGreaterThan(0)
    for (const query of ['to=9999-12-31T23:00:00-05:00', 'from=9999-12-31T20:00:00-08:00']) {
      const field = query.split('=')[0]!
      expectFieldError(await admin.get(`/api/admin/audit?${query.replace('+', '%2B')}`), field)
    }
  })
})

describe('PUT /api/auth/me', () => {
  it('preferences as an array (or any non-object) → 400 naming preferences; nothing changes', async () => {
    const { client } = await newWorker()
    expect((await client.put('/api/auth/me', { preferences: { theme: 'dark' } })).status).toBe(200)
    for (const preferences of [[], ['dark'], 'dark', 1, true]) {
      const res = await client.put('/api/auth/me', { preferences, bio: 'changed' })
      expectFieldError(res, 'preferences')
    }
    const me = (await client.get('/api/auth/me')).body
    expect(me.preferences.theme).toBe('dark')
    expect(me.bio).toBe('')
  })
})

describe('machine routes outside /api', () => {
  it('/health and /twilio_webhook with another method → 405 JSON, never the app shell', async () => {
    for (const [method, path] of [['POST', '/health'], ['DELETE', '/health'], ['GET', '/twilio_webhook'], ['PUT', '/twilio_webhook']] as const) {
      const res = await admin.request(path, { method })
      expect(res.status, `${method} ${path} ${res.text.slice(0, 100)}`).toBe(405)
      expect(res.headers.get('content-type')).toContain('application/json')
      expect(res.body.data.reason).toBe('method-not-allowed')
    }
    expect((await admin.get('/health')).body.status).toBe('ok')
  })

  it('HEAD /health and HEAD /api/health answer the status GET would (200), not 405 or the app shell', async () => {
    for (const path of ['/health', '/api/health', '/api/health?lb']) {
      const res = await fetch(admin.baseUrl + path, { method: 'HEAD' })
      expect(res.status, path).toBe(200)
      expect(res.headers.get('content-type'), path).toContain('application/json')
    }
  })
})

describe('DELETE /api/admin/users/:id', () => {
  it('several deletes of one user at once: one 204 and one audit event, the rest 404 as a later request would get', async () => {
    for (let round = 0; round < 3; round++) {
      const target = await makeUser(admin, 'worker')
      const statuses = (await Promise.all(Array.from({ length: 4 }, () => admin.delete(`/api/admin/users/${target.id}`)))).map(r => r.status)
      expect(statuses.filter(s => s === 204), statuses.join()).toHaveLength(1)
      expect(statuses.filter(s => s === 404), statuses.join()).toHaveLength(3)
      expect(await auditCount('admin.user_deleted', target.id)).toBe(1)
    }
  })
})
