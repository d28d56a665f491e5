import { describe, expect, it } from 'vitest'
import { SafeClient, signUp } from '../support/auth'
import { GOOD_PASSWORD } from '../support/http'
import { auditRows, dbQuery, dbTime, setUserActive } from '../support/db'

const UNKNOWN_ID = '0190f5d2-7c1e-7b3a-9c4d-1234567890ab'

/** A client that authenticates with a Bearer token only (no cookie). */
function scriptClient(token: string) {
  const client = new SafeClient()
  client.bearer = token
  return client
}

describe('POST /api/auth/tokens', () => {
  it('201 {id, name, token}; the token works as Bearer, with no cookie', async () => {
    const { client, email, user } = await signUp()
    const res = await client.post('/api/auth/tokens', { password: GOOD_PASSWORD, name: 'backup script' })
    expect(res.status).toBe(201)
    expect(res.body).toMatchObject({ name: 'backup script' })
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(res.body.token.length).toBeGreaterThanOrEqual(32)
    const script = scriptClient(res.body.token)
    const me = await script.get('/api/auth/me')
    expect(me.status).toBe(200)
    expect(me.body.email).toBe(email)
    expect(script.cookies.size).toBe(0)
    // only the hash is stored
    const [row] = await dbQuery<{ token_hash: string }>('select token_hash from api_tokens where id = ?', [res.body.id])
    expect(row!.token_hash).not.toContain(res.body.token)
    const [event] = await auditRows('auth.token_created', res.body.id)
    expect(event?.actor_id).toBe(user.id)
    expect(JSON.stringify(event)).not.toContain(res.body.token)
  })

  it('expiresInDays sets the expiry; an expired token → 401', async () => {
    const { client } = await signUp()
    const res = await client.post('/api/auth/tokens', { password: GOOD_PASSWORD, name: 'short', expiresInDays: 1 })
    expect(res.status).toBe(201)
    const listed = (await client.get('/api/auth/tokens')).body.data.find((t: any) => t.id === res.body.id)
    const inHours = (Date.parse(listed.expiresAt) - Date.now()) / 3_600_000
    expect(inHours).toBeGreaterThan(23)
    expect(inHours).toBeLessThan(25)
    expect((await scriptClient(res.body.token).get('/api/auth/me')).status).toBe(200)
    await dbQuery('update api_tokens set expires_at = ? where id = ?', [dbTime(new Date(Date.now() - 60_000)), res.body.id])
    expect((await scriptClient(res.body.token).get('/api/auth/me')).status).toBe(401)
  })

  it('401 without a session', async () => {
    expect((await new SafeClient().post('/api/auth/tokens', { password: GOOD_PASSWORD, name: 'x' })).status).toBe(401)
  })
})

describe('POST /api/auth/tokens: at most 50 per user', () => {
  it('past the cap → 409 with data.limit, also when the last ones are asked for at once', async () => {
    const { client } = await signUp()
    for (let i = 0; i < 45; i++) expect((await client.post('/api/auth/tokens', { password: GOOD_PASSWORD, name: `t${i}` })).status).toBe(201)
    const burst = await Promise.all(Array.from({ length: 10 }, (_, i) => client.post('/api/auth/tokens', { password: GOOD_PASSWORD, name: `b${i}` })))
    expect(burst.map(r => r.status).sort()).toEqual([...Array(5).fill(201), ...Array(5).fill(409)])
    expect(burst.find(r => r.status === 409)!.body.data.limit).toBe(50)
    expect((await client.get('/api/auth/tokens')).body.data).toHaveLength(50)
  })
})

describe('GET /api/auth/tokens', () => {
  it('lists the caller\'s tokens without secrets, newest first, and tracks lastUsedAt', async () => {
    const { client } = await signUp()
    const first = (await client.post('/api/auth/tokens', { password: GOOD_PASSWORD, name: 'uno' })).body
    const second = (await client.post('/api/auth/tokens', { password: GOOD_PASSWORD, name: 'dos' })).body
    const before = await client.get('/api/auth/tokens')
    expect(before.status).toBe(200)
    expect(before.body.data.map((t: any) => t.name)).toEqual(['dos', 'uno'])
    for (const t of before.body.data) {
      expect(Object.keys(t).sort()).toEqual(['createdAt', 'expiresAt', 'id', 'lastUsedAt', 'name'])
      expect(t.lastUsedAt).toBeNull()
    }
    expect(before.text).not.toContain(first.token)
    expect(before.text).not.toContain(second.token)
    await scriptClient(first.token).get('/api/auth/me')
    const after = (await client.get('/api/auth/tokens')).body.data
    const used = after.find((t: any) => t.id === first.id)
    expect(Math.abs(Date.parse(used.lastUsedAt) - Date.now())).toBeLessThan(60_000)
    expect(after.find((t: any) => t.id === second.id).lastUsedAt).toBeNull()
  })

  it('another user sees none of them', async () => {
    const { client } = await signUp()
    await client.post('/api/auth/tokens', { password: GOOD_PASSWORD, name: 'mío' })
    const other = await signUp()
    expect((await other.client.get('/api/auth/tokens')).body.data).toEqual([])
  })
})

describe('DELETE /api/auth/tokens/:id', () => {
  it('204; the revoked token → 401 at once', async () => {
    const { client } = await signUp()
    const created = (await client.post('/api/auth/tokens', { password: GOOD_PASSWORD, name: 'temporal' })).body
    const script = scriptClient(created.token)
    expect((await script.get('/api/auth/me')).status).toBe(200)
    const res = await client.delete(`/api/auth/tokens/${created.id}`)
    expect(res.status).toBe(204)
    expect((await script.get('/api/auth/me')).status).toBe(401)
    expect((await client.get('/api/auth/tokens')).body.data).toEqual([])
    expect((await client.delete(`/api/auth/tokens/${created.id}`)).status).toBe(404)
    expect(await auditRows('auth.token_revoked', created.id)).toHaveLength(1)
  })

  it('another user\'s token → 404 and it keeps working', async () => {
    const owner = await signUp()
    const created = (await owner.client.post('/api/auth/tokens', { password: GOOD_PASSWORD, name: 'ajeno' })).body
    const other = await signUp()
    expect((await other.client.delete(`/api/auth/tokens/${created.id}`)).status).toBe(404)
    expect((await scriptClient(created.token).get('/api/auth/me')).status).toBe(200)
  })

  it('malformed id → 400 naming id; unknown well-formed id → 404', async () => {
    const { client } = await signUp()
    for (const bad of ['abc', '1', 'x'.repeat(200)]) {
      const res = await client.delete(`/api/auth/tokens/${bad}`)
      expect(res.status, bad).toBe(400)
      expect(res.body.message).toContain('id')
    }
    expect((await client.delete(`/api/auth/tokens/${UNKNOWN_ID}`)).status).toBe(404)
  })
})

describe('Bearer authentication', () => {
  it('a made-up, truncated or over-long token → 401', async () => {
    const { client } = await signUp()
    const { token } = (await client.post('/api/auth/tokens', { password: GOOD_PASSWORD, name: 'real' })).body
    for (const bad of ['ea_nope', token.slice(0, -1), `${token}x`, 'x'.repeat(5000), '']) {
      const res = await scriptClient(bad).get('/api/auth/me')
      expect(res.status, bad.slice(0, 20)).toBe(401)
    }
  })

  it('a disabled user\'s token → 401', async () => {
    const { client, email } = await signUp()
    const { token } = (await client.post('/api/auth/tokens', { password: GOOD_PASSWORD, name: 'x' })).body
    await setUserActive(email, false)
    try { expect((await scriptClient(token).get('/api/auth/me')).status).toBe(401) }
    finally { await setUserActive(email, true) }
    expect((await scriptClient(token).get('/api/auth/me')).status).toBe(200)
  })

  it('a Bearer script can use the API with no Origin header (POST tokens)', async () => {
    const { client } = await signUp()
    const { token } = (await client.post('/api/auth/tokens', { password: GOOD_PASSWORD, name: 'x' })).body
    const res = await scriptClient(token).post('/api/auth/tokens', { password: GOOD_PASSWORD, name: 'made by a script' })
    expect(res.status).toBe(201)
  })
})
