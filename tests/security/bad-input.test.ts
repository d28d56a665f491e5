import { describe, expect, it } from 'vitest'
import { demoAdmin } from '../api/admin-support'
import { expectFieldError, signUp } from '../support/auth'
import { Client, GOOD_PASSWORD, uniqueEmail } from '../support/http'

// Issue #15 item 7: on PostgreSQL a NUL character in any text field, or an audit date of year 0000, was a 500.
describe('NUL characters and impossible dates are bad input (400 naming the field), on both databases', () => {
  it('NUL in a body field → 400 naming it', async () => {
    const { client } = await signUp()
    expectFieldError(await client.post('/api/conversations', { title: 'a\u0000b' }), 'title')
    expectFieldError(await client.post('/api/chat', { message: 'hola\u0000' }), 'message')
    expectFieldError(await client.post('/api/auth/tokens', { name: 'x\u0000' }), 'name')
    expectFieldError(await new Client().post('/api/auth/register', { email: uniqueEmail('nul'), password: 'correct-horse-battery-9', fullName: 'Ana\u0000' }), 'fullName')
    expectFieldError(await new Client().post('/api/auth/login', { email: 'admin@example.com', password: 'admin\u0000123' }), 'password')
    const admin = await demoAdmin()
    expectFieldError(await admin.post('/api/admin/system-prompts', { name: 'p', content: 'x\u0000y' }), 'content')
  })

  // Contract audit: half of a UTF-16 pair ("\ud800") is valid JSON but not text; PostgreSQL's jsonb refused it with a
  // 500 wherever the text reached a JSON column (an audit entry, preferences, a setting). SQLite stored it.
  it('a lone surrogate in a body field → 400 naming it, on both databases', async () => {
    const { client, password } = await signUp()
    expectFieldError(await client.post('/api/auth/tokens', { name: 'a\ud800', password }), 'name')
    expectFieldError(await client.put('/api/auth/me', { preferences: { customInstructions: 'x\udc00y' } }), 'preferences.customInstructions')
    expectFieldError(await client.post('/api/chat', { message: 'hola \ud83d' }), 'message')
    const admin = await demoAdmin()
    expectFieldError(await admin.put('/api/admin/starter-prompts', { prompts: ['p\ud800'] }), 'prompts.0')
    // a whole pair (an emoji) is text like any other
    const token = await client.post('/api/auth/tokens', { name: 'llave 🔑', password })
    expect(token.status).toBe(201)
    expect(token.body.name).toBe('llave 🔑')
  })

  it('NUL in a query parameter → 400 naming it', async () => {
    const { client } = await signUp()
    expectFieldError(await client.get('/api/conversations?q=a%00b'), 'q')
    const admin = await demoAdmin()
    expectFieldError(await admin.get('/api/admin/users?q=a%00b'), 'q')
  })

  it('audit dates before 1970 (year 0000 included) → 400 naming the field', async () => {
    const admin = await demoAdmin()
    expectFieldError(await admin.get('/api/admin/audit?to=0000-01-01'), 'to')
    expectFieldError(await admin.get('/api/admin/audit?from=0000-01-01T00:00:00Z'), 'from')
    expect((await admin.get('/api/admin/audit?from=2020-01-01&limit=1')).status).toBe(200)
  })
})

// REVIEW D9: some errors named their field only in the message ("email: …"), so the UI parsed prose to know which
// input to mark. Every error about a field now carries it in `data.fields`, whatever the status.
describe('an error about one field names it in data.fields, whatever its status', () => {
  it('409 email taken, 401 wrong current password, 400 2FA code before setup, 404 unknown anchor, 413 body', async () => {
    const { client, email } = await signUp()
    const admin = await demoAdmin()
    expectFieldError(await admin.post('/api/admin/users', { email, fullName: 'Otra', role: 'worker', password: GOOD_PASSWORD }), 'email', 409)
    expectFieldError(await client.put('/api/auth/password', { currentPassword: 'not-my-password-1', newPassword: 'another-good-pass-9' }), 'currentPassword', 401)
    expectFieldError(await client.post('/api/auth/2fa/enable', { code: '123456' }), 'code')
    const created = await client.post('/api/conversations', { title: 'anclas' })
    expect(created.status).toBe(201)
    const unknown = '01890000-0000-7000-8000-000000000000'
    expectFieldError(await client.get(`/api/conversations/${created.body.id}/messages?before=${unknown}`), 'before', 404)
    expectFieldError(await client.post('/api/conversations', { title: 'x'.repeat(300 * 1024) }), 'body', 413)
    // the session survives a 401 about a typed password: it was about the field, not the sign-in
    expect((await client.get('/api/auth/me')).status).toBe(200)
  })
})

// Contract audit: limits counted UTF-16 units, so a title of 128 emoji (128 characters) was "over 255 characters".
describe('text limits count characters (an emoji is one), on every text field', () => {
  it('a report title of 255 emoji is accepted and 256 refused; a conversation title of 200 emoji likewise', async () => {
    const { client } = await signUp()
    const accepted = await client.post('/api/reports', { title: '😀'.repeat(255), content: 'c' })
    expect(accepted.status, accepted.text.slice(0, 200)).toBe(201)
    expect([...accepted.body.title]).toHaveLength(255)
    expectFieldError(await client.post('/api/reports', { title: '😀'.repeat(256), content: 'c' }), 'title')
    expect((await client.post('/api/conversations', { title: '🇨🇱'.repeat(100) })).status).toBe(201)
    expectFieldError(await client.post('/api/conversations', { title: '😀'.repeat(201) }), 'title')
  })
})

// Contract audit: routes without a body accepted any body; "unknown fields → 400" holds for them too.
describe('a route that takes no body refuses one with fields (400 naming the field), accepts none or {}', () => {
  it('stop, read-all and access-log seen', async () => {
    const { client } = await signUp()
    const created = await client.post('/api/conversations', { title: 'sin cuerpo' })
    expect(created.status).toBe(201)
    const id = created.body.id
    expectFieldError(await client.post(`/api/chat/${id}/stop`, { force: true }), 'force')
    expectFieldError(await client.put('/api/messages/read-all', { all: 1 }), 'all')
    expectFieldError(await client.put(`/api/conversations/${id}/access-log/seen`, { at: 'now' }), 'at')
    expect((await client.post(`/api/chat/${id}/stop`)).status).toBe(204)
    expect((await client.post(`/api/chat/${id}/stop`, {})).status).toBe(204)
    expect((await client.put('/api/messages/read-all')).body).toEqual({ updated: 0 })
    expect((await client.put(`/api/conversations/${id}/access-log/seen`)).status).toBe(204)
  })
})
