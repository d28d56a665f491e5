import { describe, expect, it } from 'vitest'
import { SafeClient, signIn, signUp } from '../support/auth'
import { auditRows, dbQuery, dbTime } from '../support/db'

const cleared = (setCookies: string[]) => setCookies.some(c => c.startsWith('energyapp_session=') && (/max-age=0\b/i.test(c) || /expires=thu, 01 jan 1970/i.test(c)))

describe('POST /api/auth/logout', () => {
  it('204, cookie cleared, and the old cookie stops working at once', async () => {
    const { client, user } = await signUp()
    const sealed = client.cookies.get('energyapp_session')!
    const res = await client.post('/api/auth/logout')
    expect(res.status).toBe(204)
    expect(res.text).toBe('')
    expect(cleared(res.headers.getSetCookie())).toBe(true)
    const replay = new SafeClient()
    replay.cookies.set('energyapp_session', sealed)
    expect((await replay.get('/api/auth/me')).status).toBe(401)
    const [row] = await dbQuery<{ revoked_at: unknown }>('select revoked_at from sessions where user_id = ? order by created_at limit 1', [user.id])
    expect(row!.revoked_at).not.toBeNull()
    expect((await auditRows('auth.logout')).some(r => r.actor_id === user.id)).toBe(true)
  })

  it('204 without a session too (idempotent)', async () => {
    expect((await new SafeClient().post('/api/auth/logout')).status).toBe(204)
  })

  it('only ends this device: the other session keeps working', async () => {
    const { client, email, password } = await signUp()
    const other = await signIn(email, password)
    await client.post('/api/auth/logout')
    expect((await other.get('/api/auth/me')).status).toBe(200)
  })
})

describe('POST /api/auth/logout-all', () => {
  it('204 and every session of the user is revoked; other users are untouched', async () => {
    const { client, email, password, user } = await signUp()
    const phone = await signIn(email, password)
    const laptop = await signIn(email, password)
    const stranger = await signUp()
    const res = await phone.post('/api/auth/logout-all')
    expect(res.status).toBe(204)
    expect(cleared(res.headers.getSetCookie())).toBe(true)
    for (const c of [client, phone, laptop]) expect((await c.get('/api/auth/me')).status).toBe(401)
    expect((await stranger.client.get('/api/auth/me')).status).toBe(200)
    const live = await dbQuery('select id from sessions where user_id = ? and revoked_at is null', [user.id])
    expect(live).toHaveLength(0)
    const [event] = await auditRows('auth.logout_all', user.id)
    expect(event?.actor_id).toBe(user.id)
  })

  it('401 without a session', async () => {
    expect((await new SafeClient().post('/api/auth/logout-all')).status).toBe(401)
  })
})

describe('GET /api/auth/sessions', () => {
  it('lists the live sessions with exactly one current, newest activity first', async () => {
    const { client, email, password } = await signUp()
    const other = await signIn(email, password)
    await other.request('/api/auth/me', { headers: { 'user-agent': 'Phone/2.0' } })
    const res = await client.get('/api/auth/sessions')
    expect(res.status).toBe(200)
    expect(res.body.data).toHaveLength(2)
    for (const s of res.body.data) {
      expect(Object.keys(s).sort()).toEqual(['createdAt', 'current', 'id', 'ip', 'lastSeenAt', 'userAgent'])
      expect(s.ip).toBe('127.0.0.1')
      expect(Number.isNaN(Date.parse(s.createdAt))).toBe(false)
    }
    expect(res.body.data.filter((s: any) => s.current)).toHaveLength(1)
    const mine = (await other.get('/api/auth/sessions')).body.data
    const currentHere = res.body.data.find((s: any) => s.current).id
    const currentThere = mine.find((s: any) => s.current).id
    expect(currentHere).not.toBe(currentThere)
  })

  it('does not list revoked sessions', async () => {
    const { client, email, password } = await signUp()
    const other = await signIn(email, password)
    await other.post('/api/auth/logout')
    expect((await client.get('/api/auth/sessions')).body.data).toHaveLength(1)
  })

  it('401 without a session', async () => {
    expect((await new SafeClient().get('/api/auth/sessions')).status).toBe(401)
  })
})

describe('DELETE /api/auth/sessions/:id', () => {
  it('204; that session\'s cookie stops working at once, this one keeps working', async () => {
    const { client, email, password, user } = await signUp()
    const other = await signIn(email, password)
    expect((await other.get('/api/auth/me')).status).toBe(200)
    const list = (await client.get('/api/auth/sessions')).body.data
    const target = list.find((s: any) => !s.current)
    const res = await client.delete(`/api/auth/sessions/${target.id}`)
    expect(res.status).toBe(204)
    expect((await other.get('/api/auth/me')).status).toBe(401)
    expect((await client.get('/api/auth/me')).status).toBe(200)
    expect((await client.delete(`/api/auth/sessions/${target.id}`)).status).toBe(404)
    expect(await auditRows('auth.session_revoked', target.id)).toHaveLength(1)
    expect((await auditRows('auth.session_revoked', target.id))[0]!.actor_id).toBe(user.id)
  })

  it('deleting the current session signs this client out', async () => {
    const { client } = await signUp()
    const current = (await client.get('/api/auth/sessions')).body.data.find((s: any) => s.current)
    const res = await client.delete(`/api/auth/sessions/${current.id}`)
    expect(res.status).toBe(204)
    expect(cleared(res.headers.getSetCookie())).toBe(true)
    expect((await client.get('/api/auth/me')).status).toBe(401)
  })

  it('another user\'s session id → 404 and it keeps working', async () => {
    const alice = await signUp()
    const bob = await signUp()
    const bobs = (await bob.client.get('/api/auth/sessions')).body.data[0].id
    expect((await alice.client.delete(`/api/auth/sessions/${bobs}`)).status).toBe(404)
    expect((await bob.client.get('/api/auth/me')).status).toBe(200)
  })

  it('malformed id → 400 naming id; unknown well-formed id → 404', async () => {
    const { client } = await signUp()
    for (const bad of ['nope', '123', 'x'.repeat(300), '00000000-0000-0000-0000-00000000000g', '%27%20or%201%3D1']) {
      const res = await client.delete(`/api/auth/sessions/${bad}`)
      expect(res.status, bad).toBe(400)
      expect(res.body.message).toContain('id')
    }
    const missing = await client.delete('/api/auth/sessions/0190f5d2-7c1e-7b3a-9c4d-1234567890ab')
    expect(missing.status).toBe(404)
  })

  it('401 without a session', async () => {
    expect((await new SafeClient().delete('/api/auth/sessions/0190f5d2-7c1e-7b3a-9c4d-1234567890ab')).status).toBe(401)
  })
})

describe('session lifetime', () => {
  it('an expired session → 401 and is no longer listed', async () => {
    const { client, email, password } = await signUp()
    const other = await signIn(email, password)
    const current = (await client.get('/api/auth/sessions')).body.data.find((s: any) => s.current)
    await dbQuery('update sessions set expires_at = ? where id = ?', [dbTime(new Date(Date.now() - 1000)), current.id])
    // a change made straight in the database (not through the app) is seen once the sign-in cache entry ages out
    await expect.poll(async () => (await client.get('/api/auth/me')).status, { timeout: 5_000 }).toBe(401)
    const listed = (await other.get('/api/auth/sessions')).body.data.map((s: any) => s.id)
    expect(listed).not.toContain(current.id)
    expect(listed).toHaveLength(1)
  })

  it('activity slides the expiry and refreshes lastSeenAt (at most once a minute)', async () => {
    const { client } = await signUp()
    const current = (await client.get('/api/auth/sessions')).body.data.find((s: any) => s.current)
    const old = new Date(Date.now() - 10 * 60_000)
    await dbQuery('update sessions set last_seen_at = ?, expires_at = ? where id = ?', [dbTime(old), dbTime(new Date(Date.now() + 3_600_000)), current.id])
    // the cached sign-in (from the request above) ages out within AUTH_CACHE_MS; then the stored last use is read
    await expect.poll(async () => {
      const res = await client.get('/api/auth/me')
      expect(res.status).toBe(200)
      return res.headers.getSetCookie().some(c => c.startsWith('energyapp_session='))
    }, { timeout: 5_000 }).toBe(true)
    const after = (await client.get('/api/auth/sessions')).body.data.find((s: any) => s.id === current.id)
    expect(Math.abs(Date.parse(after.lastSeenAt) - Date.now())).toBeLessThan(30_000)
    const [row] = await dbQuery<{ expires_at: unknown }>('select expires_at from sessions where id = ?', [current.id])
    const expires = row!.expires_at instanceof Date ? row!.expires_at.getTime() : Number(row!.expires_at)
    expect(expires - Date.now()).toBeGreaterThan(29 * 86_400_000)
  })
})
