import { describe, expect, it } from 'vitest'
import { demoAdmin } from '../api/admin-support'
import { expectFieldError, signUp } from '../support/auth'
import { Client, uniqueEmail } from '../support/http'

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
