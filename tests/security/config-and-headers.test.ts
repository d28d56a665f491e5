import { describe, expect, it } from 'vitest'
import { signUp } from '../support/auth'
import { Client } from '../support/http'

// Issue #15 items 9 and 10.
describe('/api/config tells anonymous callers only what the login page needs', () => {
  it('anonymous: no model server address, no installed models', async () => {
    const res = await new Client().get('/api/config')
    expect(res.status).toBe(200)
    expect(Object.keys(res.body).sort()).toEqual(['defaultModel', 'demoAccounts', 'emailEnabled', 'maxMessageChars', 'registrationOpen'])
    expect(res.text).not.toContain('127.0.0.1:9')
  })

  it('signed in: the model list too, still no address', async () => {
    const { client } = await signUp()
    const res = await client.get('/api/config')
    expect(Array.isArray(res.body.models)).toBe(true)
    expect(res.body).not.toHaveProperty('ollamaHost')
    expect(res.text).not.toContain('127.0.0.1:9')
  })
})

describe('static responses carry the same security headers as API routes', () => {
  const expectHeaders = (res: Response, what: string) => {
    expect(res.status, what).toBe(200)
    expect(res.headers.get('x-content-type-options'), what).toBe('nosniff')
    expect(res.headers.get('referrer-policy'), what).toBe('strict-origin-when-cross-origin')
    expect(res.headers.get('x-frame-options'), what).toBe('DENY')
  }

  it('the shell, a /_nuxt/ asset, /sw.js, the manifest and the favicon', async () => {
    const base = new Client().baseUrl
    const shell = await fetch(`${base}/`)
    expectHeaders(shell, '/')
    const asset = /\/_nuxt\/[\w.-]+\.js/.exec(await shell.text())?.[0]
    expect(asset).toBeTruthy()
    for (const path of [asset!, '/sw.js', '/manifest.webmanifest', '/favicon.svg']) {
      const res = await fetch(`${base}${path}`)
      await res.arrayBuffer()
      expectHeaders(res, path)
    }
  })
})
