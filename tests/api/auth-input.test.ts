import { beforeAll, describe, expect, it } from 'vitest'
import { expectFieldError, SafeClient, signUp } from '../support/auth'
import { uniqueEmail } from '../support/http'

const BIG = 'x'.repeat(100_000)

interface Route {
  method: 'POST' | 'PUT'
  path: string
  signedIn: boolean
  /** A body that passes validation, so each case breaks exactly one thing. */
  valid: () => Record<string, unknown>
  required: string[]
  optional: string[]
}

const ROUTES: Route[] = [
  { method: 'POST', path: '/api/auth/login', signedIn: false, valid: () => ({ email: uniqueEmail('input'), password: 'whatever-123', totpCode: '123456' }), required: ['email', 'password'], optional: ['totpCode'] },
  { method: 'POST', path: '/api/auth/verify-2fa', signedIn: false, valid: () => ({ challenge: 'c'.repeat(43), code: '123456' }), required: ['challenge', 'code'], optional: [] },
  { method: 'POST', path: '/api/auth/register', signedIn: false, valid: () => ({ email: uniqueEmail('input'), password: 'strong-enough-pass-1', fullName: 'Ana' }), required: ['email', 'password', 'fullName'], optional: [] },
  { method: 'PUT', path: '/api/auth/password', signedIn: true, valid: () => ({ currentPassword: 'whatever-123', newPassword: 'strong-enough-pass-1' }), required: ['currentPassword', 'newPassword'], optional: [] },
  { method: 'POST', path: '/api/auth/2fa/setup', signedIn: true, valid: () => ({ password: 'whatever-123' }), required: ['password'], optional: [] },
  { method: 'POST', path: '/api/auth/2fa/enable', signedIn: true, valid: () => ({ code: '123456' }), required: ['code'], optional: [] },
  { method: 'POST', path: '/api/auth/2fa/disable', signedIn: true, valid: () => ({ password: 'whatever-123', code: '123456' }), required: ['password', 'code'], optional: [] },
  { method: 'POST', path: '/api/auth/tokens', signedIn: true, valid: () => ({ password: 'whatever-123', name: 'script', expiresInDays: 30 }), required: ['password', 'name'], optional: ['expiresInDays'] },
]

let signedIn: SafeClient

beforeAll(async () => {
  signedIn = (await signUp()).client
})

const clientFor = (route: Route) => route.signedIn ? signedIn : new SafeClient()
const send = (route: Route, init: { body?: unknown, raw?: string }) => clientFor(route).request(route.path, { method: route.method, ...init })

describe.each(ROUTES)('$method $path rejects bad input with a 4xx naming the field', (route) => {
  it('malformed JSON → 400 naming body', async () => {
    for (const raw of ['{"a":', '{email:1}', '\u0000', '{"a":1}}']) {
      const res = await send(route, { raw })
      expectFieldError(res, 'body')
    }
  })

  it('a JSON value that is not an object → 400', async () => {
    for (const raw of ['[]', 'null', '"text"', '42', 'true']) {
      const res = await send(route, { raw })
      expect(res.status, raw).toBe(400)
      expect(res.body.statusCode).toBe(400)
      expect(res.body.message, raw).toBe('body: must be a JSON object')
    }
  })

  it('each missing required field → 400 naming it', async () => {
    for (const field of route.required) {
      const body = route.valid()
      delete body[field]
      const res = await send(route, { body })
      expectFieldError(res, field)
      expect(res.body.message).toBe(`${field}: is required`)
    }
  })

  it('each field with a wrong type → 400 naming it', async () => {
    for (const field of [...route.required, ...route.optional]) {
      const wrong = typeof route.valid()[field] === 'number' ? ['30', true, null, { n: 1 }, 1.5, -1] : [123, true, null, ['a'], { a: 1 }]
      for (const value of wrong) {
        const res = await send(route, { body: { ...route.valid(), [field]: value } })
        expectFieldError(res, field)
      }
    }
  })

  it('an unknown field → 400 naming it (no mass assignment)', async () => {
    for (const extra of ['role', 'isAdmin', 'active']) {
      const res = await send(route, { body: { ...route.valid(), [extra]: 'admin' } })
      expectFieldError(res, extra)
      expect(res.body.message).toBe(`${extra}: is not a known field`)
    }
    const proto = await send(route, { raw: JSON.stringify(route.valid()).replace(/^\{/, '{"__proto__":{"role":"admin"},') })
    expectFieldError(proto, '__proto__')
  })

  it('a 100 KB string in any field → 400 naming it', async () => {
    for (const field of [...route.required, ...route.optional].filter(f => typeof route.valid()[f] === 'string')) {
      const res = await send(route, { body: { ...route.valid(), [field]: BIG } })
      expectFieldError(res, field, [400, 413])
    }
  })

  it('a body over the size limit → 413', async () => {
    const res = await send(route, { body: { ...route.valid(), [route.required[0]!]: 'y'.repeat(300_000) } })
    expect(res.status).toBe(413)
    expect(res.body.message).toContain('body')
  })
})

describe('input normalisation', () => {
  it('login: an email that is not an email → 400 naming email', async () => {
    for (const email of ['', 'nope', 'a@', '@b.cl', 'a b@c.cl', `${'a'.repeat(250)}@b.cl`]) {
      expectFieldError(await new SafeClient().post('/api/auth/login', { email, password: 'x' }), 'email')
    }
  })

  it('login: an empty password → 400 naming password', async () => {
    expectFieldError(await new SafeClient().post('/api/auth/login', { email: uniqueEmail(), password: '' }), 'password')
  })

  it('register: a blank fullName → 400 naming fullName', async () => {
    expectFieldError(await new SafeClient().post('/api/auth/register', { email: uniqueEmail(), password: 'strong-enough-pass-1', fullName: '   ' }), 'fullName')
  })

  it('tokens: expiresInDays out of range → 400 naming it', async () => {
    for (const expiresInDays of [0, 3651, 2.5]) {
      expectFieldError(await signedIn.post('/api/auth/tokens', { password: 'whatever-123', name: 'x', expiresInDays }), 'expiresInDays')
    }
  })

  it('an empty body on a route that needs fields → 400 naming the first field', async () => {
    expectFieldError(await new SafeClient().request('/api/auth/login', { method: 'POST' }), 'email')
  })

  it('a non-JSON content type with a JSON body is still validated, not trusted', async () => {
    const res = await new SafeClient().request('/api/auth/login', { method: 'POST', raw: 'email=a@b.cl&password=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(res.status).toBe(400)
  })
})

describe('wrong methods', () => {
  it('an auth route called with the wrong method answers a JSON 404/405, never 200 or 500', async () => {
    const calls: Array<[string, string]> = [['GET', '/api/auth/login'], ['GET', '/api/auth/logout'], ['DELETE', '/api/auth/me'], ['POST', '/api/auth/sessions'], ['PATCH', '/api/auth/tokens'], ['GET', '/api/auth/2fa/setup']]
    for (const [method, path] of calls) {
      const res = await signedIn.request(path, { method })
      expect([404, 405], `${method} ${path}`).toContain(res.status)
      expect(res.body.statusCode).toBe(res.status)
    }
  })
})
