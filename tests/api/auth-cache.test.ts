import { uuidv7 } from 'uuidv7'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { Client, DEMO, GOOD_PASSWORD, uniqueEmail } from '../support/http'
import { dbQuery } from '../support/db'
import { startRedis, type RunningRedis } from '../support/redis'
import { createTestDatabase, type RunningServer, startServer, type TestDatabase } from '../support/server'

/**
 * The sign-in cache (server/services/auth-cache.ts): a signed-in request's session and user come from memory. Here
 * it keeps entries for 10 minutes, so a change that shows up at once can only have come from the invalidation —
 * in the process that made the change, and in a second process on the same database through Redis.
 */

let redis: RunningRedis
let db: TestDatabase
let one: RunningServer
let two: RunningServer
let admin: Client

beforeAll(async () => {
  redis = await startRedis()
  db = await createTestDatabase(inject('dbKind'))
  const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, AUTH_CACHE_MS: '600000' }
  // one after the other: the first migrates the fresh database
  one = await startServer(env)
  two = await startServer(env)
  admin = new Client(one.url)
  await admin.login(DEMO.admin.email, DEMO.admin.password)
})
afterAll(async () => {
  await one?.stop()
  await two?.stop()
  await redis?.stop()
  await db?.drop()
})

/** A new worker signed in on process one, and the same cookie used on process two; both caches warmed. */
async function worker() {
  const email = uniqueEmail('cache')
  const res = await admin.post('/api/admin/users', { email, fullName: 'Caché Prueba', role: 'worker', password: GOOD_PASSWORD, mustChangePassword: false })
  expect(res.status, res.text).toBe(201)
  const here = await signIn(email)
  const there = onTwo(here)
  expect((await here.get('/api/auth/me')).status).toBe(200)
  expect((await there.get('/api/auth/me')).status).toBe(200)
  return { id: res.body.user.id as string, email, here, there }
}

async function signIn(email: string) {
  const client = new Client(one.url)
  await client.login(email, GOOD_PASSWORD)
  return client
}

function onTwo(client: Client) {
  const copy = new Client(two.url)
  copy.cookies = new Map(client.cookies)
  return copy
}

const status = async (client: Client) => (await client.get('/api/auth/me')).status
// the other process hears of the change over Redis; the 10-minute cache cannot explain a change within seconds
const elsewhere = (probe: () => Promise<unknown>) => expect.poll(probe, { timeout: 5_000, interval: 50 })

describe('the sign-in cache', () => {
  it('is in use: a change made behind the app\'s back (straight SQL) is not seen yet', async () => {
    const { id, here, there } = await worker()
    await dbQuery('update users set full_name = ? where id = ?', ['Cambiado por SQL', id], db.url)
    expect((await here.get('/api/auth/me')).body.fullName).toBe('Caché Prueba')
    expect((await there.get('/api/auth/me')).body.fullName).toBe('Caché Prueba')
    // …and a change through the app is seen at once, here and (over Redis) on the other process
    expect((await here.put('/api/auth/me', { fullName: 'Nuevo Nombre' })).status).toBe(200)
    expect((await here.get('/api/auth/me')).body.fullName).toBe('Nuevo Nombre')
    await elsewhere(async () => (await there.get('/api/auth/me')).body.fullName).toBe('Nuevo Nombre')
  })

  it('a revoked session is refused on the very next request, and on the other process', async () => {
    const { email, here, there } = await worker()
    const other = await signIn(email)
    const sessions = (await other.get('/api/auth/sessions')).body.data
    const target = sessions.find((s: any) => !s.current && s.id)
    expect((await other.delete(`/api/auth/sessions/${target.id}`)).status).toBe(204)
    expect(await status(here)).toBe(401)
    await elsewhere(() => status(there)).toBe(401)
    expect(await status(other)).toBe(200)
  })

  it('sign-out and sign-out everywhere end the cached sessions', async () => {
    const { email, here, there } = await worker()
    const kept = new Client(one.url)
    kept.cookies = new Map(here.cookies)
    expect((await here.post('/api/auth/logout')).status).toBe(204)
    expect(await status(kept)).toBe(401)
    await elsewhere(() => status(there)).toBe(401)

    const a = await signIn(email)
    const b = await signIn(email)
    const bThere = onTwo(b)
    expect(await status(b)).toBe(200)
    expect(await status(bThere)).toBe(200)
    expect((await a.post('/api/auth/logout-all')).status).toBeLessThan(300)
    expect(await status(b)).toBe(401)
    await elsewhere(() => status(bThere)).toBe(401)
  })

  it('deactivating a user, resetting their password or deleting them ends their cached sessions', async () => {
    const first = await worker()
    expect((await admin.patch(`/api/admin/users/${first.id}`, { active: false })).status).toBe(200)
    expect(await status(first.here)).toBe(401)
    await elsewhere(() => status(first.there)).toBe(401)

    const second = await worker()
    expect((await admin.post(`/api/admin/users/${second.id}/reset-password`)).status).toBe(200)
    expect(await status(second.here)).toBe(401)
    await elsewhere(() => status(second.there)).toBe(401)

    const third = await worker()
    expect((await admin.delete(`/api/admin/users/${third.id}`)).status).toBeLessThan(300)
    expect(await status(third.here)).toBe(401)
    await elsewhere(() => status(third.there)).toBe(401)
  })

  it('a role change, a granted custom role and an edited role reach the next request', async () => {
    const { id, here, there } = await worker()
    const me = async (client: Client) => (await client.get('/api/auth/me')).body
    expect((await me(here)).permissions).not.toContain('audit.read')
    expect((await admin.patch(`/api/admin/users/${id}`, { role: 'supervisor' })).status).toBe(200)
    expect((await me(here)).role).toBe('supervisor')
    await elsewhere(async () => (await me(there)).role).toBe('supervisor')

    const role = await admin.post('/api/admin/roles', { name: `Caché ${uuidv7().slice(-8)}`, description: 'prueba', permissions: ['audit.read'] })
    expect(role.status, role.text).toBe(201)
    expect((await admin.put(`/api/admin/users/${id}/roles`, { roleIds: [role.body.id] })).status).toBeLessThan(300)
    expect((await me(here)).permissions).toContain('audit.read')
    await elsewhere(async () => (await me(there)).permissions).toContain('audit.read')

    expect((await admin.patch(`/api/admin/roles/${role.body.id}`, { permissions: [] })).status).toBe(200)
    expect((await me(here)).permissions).not.toContain('audit.read')
    await elsewhere(async () => (await me(there)).permissions.includes('audit.read')).toBe(false)
  })
})
