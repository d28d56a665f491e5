import { afterAll, describe, expect, inject, it } from 'vitest'
import { SafeClient, signIn, signUp } from '../support/auth'
import { Client, GOOD_PASSWORD, uniqueEmail } from '../support/http'
import { createTestDatabase, startServer } from '../support/server'
import { demoAdmin, makeUser } from './admin-support'

// GET /api/auth/offline-key: the key that wraps a device's offline data key (README "Security"). Handed to a live
// browser session only; a different key per user and per device; gone (401) once the session is.
const DEVICE = 'device-0123456789abcdef'
const OTHER_DEVICE = 'device-fedcba9876543210'
const keyOf = (client: Client, device = DEVICE) => client.get(`/api/auth/offline-key?device=${device}`)

describe('GET /api/auth/offline-key', () => {
  it('200: a 256-bit key, not cached, the same for the same user and device on every session', async () => {
    const { client, email, password } = await signUp(undefined, 'offline-key')
    const res = await keyOf(client)
    expect(res.status).toBe(200)
    expect(Object.keys(res.body).sort()).toEqual(['key', 'version'])
    expect(res.body.version).toBe(1)
    expect(Buffer.from(res.body.key, 'base64url')).toHaveLength(32)
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect((await keyOf(client)).body.key).toBe(res.body.key)
    // a new sign-in on the same device opens what the device saved before
    const again = await signIn(email, password)
    expect((await keyOf(again)).body.key).toBe(res.body.key)
  })

  it('another device or another user gets another key', async () => {
    const a = await signUp(undefined, 'offline-key-a')
    const b = await signUp(undefined, 'offline-key-b')
    const keys = [(await keyOf(a.client)).body.key, (await keyOf(a.client, OTHER_DEVICE)).body.key, (await keyOf(b.client)).body.key]
    expect(new Set(keys).size).toBe(3)
  })

  it('400 naming `device` when it is missing or malformed', async () => {
    const { client } = await signUp(undefined, 'offline-key-bad')
    for (const query of ['', '?device=short', `?device=${'x'.repeat(65)}`, '?device=has%20space%20in%20it%20ok']) {
      const res = await client.get(`/api/auth/offline-key${query}`)
      expect(res.status, query).toBe(400)
      expect(res.body.message).toMatch(/^device: /)
    }
  })

  it('401 without a session, after sign-out, after "sign out everywhere", and for a deactivated user', async () => {
    expect((await keyOf(new SafeClient())).status).toBe(401)

    const out = await signUp(undefined, 'offline-key-out')
    const sealed = out.client.cookies.get('energyapp_session')!
    expect((await keyOf(out.client)).status).toBe(200)
    expect((await out.client.post('/api/auth/logout')).status).toBe(204)
    const replay = new SafeClient()
    replay.cookies.set('energyapp_session', sealed)
    expect((await keyOf(replay)).status).toBe(401)

    const revoked = await signUp(undefined, 'offline-key-revoked')
    const elsewhere = await signIn(revoked.email, revoked.password)
    expect((await keyOf(revoked.client)).status).toBe(200)
    expect((await elsewhere.post('/api/auth/logout-all')).status).toBe(204)
    expect((await keyOf(revoked.client)).status).toBe(401)

    const admin = await demoAdmin()
    const worker = await makeUser(admin, 'worker')
    expect((await keyOf(worker.client)).status).toBe(200)
    expect((await admin.patch(`/api/admin/users/${worker.id}`, { active: false })).status).toBe(200)
    expect((await keyOf(worker.client)).status).toBe(401)
  })

  it('403 for an API token: only a browser session has a device cache', async () => {
    const { client } = await signUp(undefined, 'offline-key-token')
    const token = await client.post('/api/auth/tokens', { password: GOOD_PASSWORD, name: 'script' })
    expect(token.status).toBe(201)
    const bearer = new Client()
    bearer.bearer = token.body.token
    const res = await keyOf(bearer)
    expect(res.status).toBe(403)
    expect(res.body.data.reason).toBe('session-only')
  })
})

describe('the offline key in the logs', () => {
  const stops: Array<() => Promise<unknown>> = []
  afterAll(async () => { for (const stop of stops) await stop() })

  it('never appears in the server output, even at LOG_LEVEL=debug', async () => {
    const db = await createTestDatabase(inject('dbKind'))
    const server = await startServer({ DATABASE_URL: db.url, LOG_LEVEL: 'debug' })
    stops.push(async () => { await server.stop(); await db.drop() })
    const client = new Client(server.url)
    expect((await client.post('/api/auth/register', { email: uniqueEmail('offline-log'), password: GOOD_PASSWORD, fullName: 'Registro Clave' })).status).toBe(201)
    const res = await keyOf(client)
    expect(res.status).toBe(200)
    const hex = Buffer.from(res.body.key, 'base64url').toString('hex')
    const base64 = Buffer.from(res.body.key, 'base64url').toString('base64')
    // the server has written something about this request's neighbours (start-up, the registration)
    await expect.poll(() => server.output().length).toBeGreaterThan(0)
    for (const form of [res.body.key, base64, hex]) expect(server.output()).not.toContain(form)
  }, 120_000) // its own server on a fresh database (migrations included)
})
