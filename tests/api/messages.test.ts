import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, newWorker } from '../support/http'
import { demoAdmin, makeUser, ownServer, sqlRun, type TestUser } from './admin-support'

// API.md "Messages between people": private to the two participants, threads, read state, per-party deletion.

let admin: Client
let adminUser: TestUser
const MISSING = '01890000-0000-7000-8000-000000000000'

beforeAll(async () => {
  admin = await demoAdmin()
  adminUser = await makeUser(admin, 'admin', null, 'dm-admin')
})

/** Two fresh workers (and a third to stand outside their conversation); each test gets its own senders. */
async function trio() {
  const sup = await makeUser(admin, 'supervisor', null, 'dm-sup')
  const [a, b, c] = await Promise.all([makeUser(admin, 'worker', sup.id, 'dm-a'), makeUser(admin, 'worker', sup.id, 'dm-b'), makeUser(admin, 'worker', null, 'dm-c')])
  return { a: a!, b: b!, c: c!, sup }
}

const send = (from: TestUser, to: { id: string }, content: string, parentId?: string) =>
  from.client.post('/api/messages', { recipientId: to.id, content, ...(parentId ? { parentId } : {}) })

describe('POST /api/messages', () => {
  it('sends a message: 201 dm with names, its own thread, unread; both participants see it', async () => {
    const { a, b } = await trio()
    const res = await send(a, b, 'Hola, ¿revisaste el turno?')
    expect(res.status, res.text).toBe(201)
    const dm = res.body
    expect(dm).toMatchObject({ senderId: a.id, recipientId: b.id, sender: { id: a.id, fullName: 'Prueba dm-a' }, recipient: { id: b.id, fullName: 'Prueba dm-b' }, content: 'Hola, ¿revisaste el turno?', parentId: null, threadId: dm.id, read: false, readAt: null, editedAt: null })
    expect(Date.parse(dm.createdAt)).toBeGreaterThan(Date.now() - 60_000)
    expect((await b.client.get(`/api/messages/${dm.id}`)).body).toEqual(dm)
    expect((await a.client.get(`/api/messages/${dm.id}`)).body).toEqual(dm)
  })

  it('content: empty, blank, over 10000 chars, NUL, or not a string → 400 naming content; 10000 chars is fine', async () => {
    const { a, b } = await trio()
    for (const content of ['', '   \n', 'x'.repeat(10_001), 'a\u0000b', 42, null]) {
      const res = await a.client.post('/api/messages', { recipientId: b.id, content })
      expect(res.status, JSON.stringify(content)?.slice(0, 20)).toBe(400)
      expect(res.body.message).toMatch(/^content/)
    }
    expect((await send(a, b, 'y'.repeat(10_000))).status).toBe(201)
    expect((await a.client.post('/api/messages', { recipientId: b.id })).body.message).toMatch(/^content/)
  })

  it('recipientId: missing, malformed, unknown, inactive or the caller → 400 naming recipientId; nothing stored', async () => {
    const { a, b } = await trio()
    const gone = await makeUser(admin, 'worker', null, 'dm-inactive')
    expect((await admin.patch(`/api/admin/users/${gone.id}`, { active: false })).status).toBe(200)
    for (const recipientId of [undefined, 'not-an-id', 7, MISSING, gone.id, a.id]) {
      const res = await a.client.post('/api/messages', { recipientId, content: 'hola' })
      expect(res.status, String(recipientId)).toBe(400)
      expect(res.body.message).toMatch(/^recipientId/)
    }
    expect((await a.client.get('/api/messages?box=sent')).body.total).toBe(0)
    expect((await b.client.get('/api/messages')).body.total).toBe(0)
  })

  it('unknown fields, malformed JSON, an array body → 400', async () => {
    const { a, b } = await trio()
    expect((await a.client.post('/api/messages', { recipientId: b.id, content: 'x', senderId: b.id })).status).toBe(400)
    expect((await a.client.request('/api/messages', { method: 'POST', raw: '{"recipientId":' })).status).toBe(400)
    expect((await a.client.request('/api/messages', { method: 'POST', raw: '[]' })).status).toBe(400)
    expect((await a.client.post('/api/messages', { recipientId: b.id, content: 'x', parentId: 'nope' })).body.message).toMatch(/^parentId/)
  })

  it('replies stay in the thread of the first message and go to the other participant', async () => {
    const { a, b, c } = await trio()
    const first = (await send(a, b, 'primero')).body
    const reply = await send(b, a, 'respuesta', first.id)
    expect(reply.status, reply.text).toBe(201)
    expect(reply.body).toMatchObject({ parentId: first.id, threadId: first.id, senderId: b.id, recipientId: a.id })
    const again = await send(a, b, 'otra vez', reply.body.id)
    expect(again.body).toMatchObject({ parentId: reply.body.id, threadId: first.id })
    // the sender may add to their own message's thread too, still to the other participant
    expect((await send(a, b, 'y algo más', first.id)).body.threadId).toBe(first.id)

    const wrong = await send(b, c, 'a un tercero', first.id)
    expect(wrong.status).toBe(400)
    expect(wrong.body.message).toMatch(/^recipientId/)
    const toSelfThread = await send(a, a, 'a mí', first.id)
    expect(toSelfThread.status).toBe(400)
  })

  it('parentId the caller cannot see (someone else\'s, unknown, deleted from view) → 404; nothing stored', async () => {
    const { a, b, c } = await trio()
    const theirs = (await send(a, b, 'privado')).body
    expect((await send(c, a, 'me meto', theirs.id)).status).toBe(404)
    expect((await send(c, a, 'me meto', MISSING)).status).toBe(404)
    expect((await b.client.delete(`/api/messages/${theirs.id}`)).status).toBe(204)
    expect((await send(b, a, 'respondo a lo borrado', theirs.id)).status).toBe(404)
    expect((await c.client.get('/api/messages?box=sent')).body.total).toBe(0)
  })
})

describe('privacy', () => {
  it('only the two participants read a message: admins and supervisors of either get 404', async () => {
    const { a, b, c, sup } = await trio()
    const dm = (await send(a, b, 'entre nosotros')).body
    for (const outsider of [c, sup, adminUser]) {
      expect((await outsider.client.get(`/api/messages/${dm.id}`)).status).toBe(404)
      expect((await outsider.client.put(`/api/messages/${dm.id}`, { content: 'x' })).status).toBe(404)
      expect((await outsider.client.put(`/api/messages/${dm.id}/read`)).status).toBe(404)
      expect((await outsider.client.delete(`/api/messages/${dm.id}`)).status).toBe(404)
      expect((await outsider.client.get(`/api/messages?with=${a.id}`)).body.data.map((m: any) => m.id)).not.toContain(dm.id)
    }
    expect((await b.client.get(`/api/messages/${dm.id}`)).body.content).toBe('entre nosotros')
  })

  it('signed out → 401; malformed id → 400; unknown id → 404', async () => {
    expect((await new Client().get('/api/messages')).status).toBe(401)
    expect((await new Client().get('/api/messages/unread-count')).status).toBe(401)
    expect((await new Client().post('/api/messages', { recipientId: MISSING, content: 'x' })).status).toBe(401)
    const { a } = await trio()
    expect((await a.client.get('/api/messages/123')).status).toBe(400)
    expect((await a.client.get('/api/messages/123')).body.message).toMatch(/^id/)
    expect((await a.client.get(`/api/messages/${MISSING}`)).status).toBe(404)
  })
})

describe('GET /api/messages', () => {
  it('box, unread, with, limit/offset; newest first', async () => {
    const { a, b, c } = await trio()
    const m1 = (await send(a, b, 'uno')).body
    const m2 = (await send(b, a, 'dos', m1.id)).body
    const m3 = (await send(c, a, 'tres')).body
    const m4 = (await send(a, c, 'cuatro', m3.id)).body
    const ids = async (query: string) => {
      const res = await a.client.get(`/api/messages${query}`)
      expect(res.status, res.text).toBe(200)
      return { total: res.body.total, ids: res.body.data.map((m: any) => m.id) }
    }
    expect(await ids('')).toEqual({ total: 4, ids: [m4.id, m3.id, m2.id, m1.id] })
    expect(await ids('?box=all')).toEqual({ total: 4, ids: [m4.id, m3.id, m2.id, m1.id] })
    expect(await ids('?box=received')).toEqual({ total: 2, ids: [m3.id, m2.id] })
    expect(await ids('?box=sent')).toEqual({ total: 2, ids: [m4.id, m1.id] })
    expect(await ids(`?with=${b.id}`)).toEqual({ total: 2, ids: [m2.id, m1.id] })
    expect(await ids(`?with=${c.id}&box=sent`)).toEqual({ total: 1, ids: [m4.id] })
    expect(await ids('?limit=2&offset=1')).toEqual({ total: 4, ids: [m3.id, m2.id] })
    await a.client.put(`/api/messages/${m2.id}/read`)
    expect(await ids('?unread=true')).toEqual({ total: 1, ids: [m3.id] })
    expect(await ids('?unread=false')).toEqual({ total: 4, ids: [m4.id, m3.id, m2.id, m1.id] })
  })

  it('cursor paging (docs/api.md): nextCursor walks every message once, newest first, also across a new message and a delete', async () => {
    const { a, b, c } = await trio()
    const sent: string[] = []
    const pairs = [[a, b], [b, a], [a, c]] as const
    for (let i = 0; i < 7; i++) sent.push((await send(pairs[i % 3]![0], pairs[i % 3]![1], `m${i}`)).body.id)
    const mine = (await a.client.get('/api/messages?limit=100')).body
    expect(mine.nextCursor).toBeNull()
    const all: string[] = mine.data.map((m: any) => m.id)
    expect(all).toEqual([...sent].reverse())
    const first = (await a.client.get('/api/messages?limit=2')).body
    expect(first.data.map((m: any) => m.id)).toEqual(all.slice(0, 2))
    expect(first.nextCursor).toBe(all[1])
    // a message arriving and a delete between pages shift offsets, not the cursor
    await send(b, a, 'nuevo')
    expect((await a.client.delete(`/api/messages/${all[2]}`)).status).toBe(204)
    const seen = [...first.data.map((m: any) => m.id)]
    let cursor = first.nextCursor
    while (cursor) {
      const page = (await a.client.get(`/api/messages?limit=2&before=${cursor}`))
      expect(page.status, page.text).toBe(200)
      expect(page.body.total).toBe(all.length) // the whole filter: one new, one deleted
      seen.push(...page.body.data.map((m: any) => m.id))
      cursor = page.body.nextCursor
    }
    expect(seen).toEqual(all.filter(id => id !== all[2]))
    // with a box and a correspondent
    const withB = (await a.client.get(`/api/messages?with=${b.id}&box=received&limit=100`)).body.data.map((m: any) => m.id)
    expect(withB.length).toBeGreaterThan(1)
    const rest = (await a.client.get(`/api/messages?with=${b.id}&box=received&before=${withB[0]}`)).body
    expect(rest.data.map((m: any) => m.id)).toEqual(withB.slice(1))
    expect(rest.nextCursor).toBeNull()
    // a cursor the caller never sent or received → 404 naming before; malformed → 400
    const foreign = (await send(b, c, 'ajeno')).body.id
    for (const before of [foreign, MISSING]) {
      const res = await a.client.get(`/api/messages?before=${before}`)
      expect(res.status).toBe(404)
      expect(res.body.message).toMatch(/^before/)
    }
  })

  it('bad query → 400 naming the field', async () => {
    const { a } = await trio()
    for (const [query, field] of [['box=inbox', 'box'], ['unread=yes', 'unread'], ['with=x', 'with'], ['before=x', 'before'], ['limit=0', 'limit'], ['limit=101', 'limit'], ['offset=-1', 'offset']]) {
      const res = await a.client.get(`/api/messages?${query}`)
      expect(res.status, query).toBe(400)
      expect(res.body.message).toMatch(new RegExp(`^${field}`))
    }
  })
})

describe('editing, reading, deleting', () => {
  it('PUT /api/messages/:id: the sender edits (editedAt set); the recipient gets 403; bad content 400', async () => {
    const { a, b } = await trio()
    const dm = (await send(a, b, 'con un eror')).body
    const edited = await a.client.put(`/api/messages/${dm.id}`, { content: 'con un error' })
    expect(edited.status, edited.text).toBe(200)
    expect(edited.body).toMatchObject({ id: dm.id, content: 'con un error', threadId: dm.threadId })
    expect(Date.parse(edited.body.editedAt)).toBeGreaterThanOrEqual(Date.parse(dm.createdAt))
    expect((await b.client.get(`/api/messages/${dm.id}`)).body.content).toBe('con un error')
    expect((await b.client.put(`/api/messages/${dm.id}`, { content: 'lo cambio yo' })).status).toBe(403)
    expect((await a.client.put(`/api/messages/${dm.id}`, { content: '' })).status).toBe(400)
    expect((await a.client.put(`/api/messages/${dm.id}`, { content: 'z'.repeat(10_001) })).body.message).toMatch(/^content/)
    expect((await a.client.get(`/api/messages/${dm.id}`)).body.content).toBe('con un error')
  })

  it('read: the recipient marks read (idempotent, first readAt kept); the sender gets 403; unread-count follows', async () => {
    const { a, b } = await trio()
    const one = (await send(a, b, 'uno')).body
    await send(a, b, 'dos')
    expect((await b.client.get('/api/messages/unread-count')).body).toEqual({ count: 2 })
    expect((await a.client.get('/api/messages/unread-count')).body).toEqual({ count: 0 })
    expect((await a.client.put(`/api/messages/${one.id}/read`)).status).toBe(403)
    const read = await b.client.put(`/api/messages/${one.id}/read`)
    expect(read.status, read.text).toBe(200)
    expect(read.body).toMatchObject({ id: one.id, read: true })
    const again = await b.client.put(`/api/messages/${one.id}/read`)
    expect(again.body.readAt).toBe(read.body.readAt)
    expect((await b.client.get('/api/messages/unread-count')).body).toEqual({ count: 1 })
    expect((await a.client.get(`/api/messages/${one.id}`)).body.read).toBe(true)
  })

  it('read-all marks every unread message to the caller: {updated: N}, then 0', async () => {
    const { a, b, c } = await trio()
    await send(a, b, 'uno')
    await send(c, b, 'dos')
    const mine = (await send(b, a, 'tres')).body
    const res = await b.client.put('/api/messages/read-all')
    expect(res.status, res.text).toBe(200)
    expect(res.body).toEqual({ updated: 2 })
    expect((await b.client.get('/api/messages/unread-count')).body.count).toBe(0)
    expect((await b.client.put('/api/messages/read-all')).body).toEqual({ updated: 0 })
    // messages the caller sent are untouched
    expect((await a.client.get(`/api/messages/${mine.id}`)).body.read).toBe(false)
  })

  it('DELETE hides a message for the caller only; hidden unread messages stop counting', async () => {
    const { a, b } = await trio()
    const dm = (await send(a, b, 'bórrame')).body
    expect((await b.client.get('/api/messages/unread-count')).body.count).toBe(1)
    const res = await b.client.delete(`/api/messages/${dm.id}`)
    expect(res.status).toBe(204)
    expect((await b.client.get('/api/messages')).body.total).toBe(0)
    expect((await b.client.get(`/api/messages/${dm.id}`)).status).toBe(404)
    expect((await b.client.delete(`/api/messages/${dm.id}`)).status).toBe(404)
    expect((await b.client.get('/api/messages/unread-count')).body.count).toBe(0)
    expect((await b.client.put('/api/messages/read-all')).body.updated).toBe(0)
    // the sender keeps their copy
    expect((await a.client.get('/api/messages?box=sent')).body.data.map((m: any) => m.id)).toEqual([dm.id])
    expect((await a.client.get(`/api/messages/${dm.id}`)).status).toBe(200)
  })

  it('deletes of one message at once: exactly one 204, the rest 404 (both databases)', async () => {
    const { a, b } = await trio()
    for (let i = 0; i < 5; i++) {
      const dm = (await send(a, b, `doble ${i}`)).body
      const statuses = (await Promise.all(Array.from({ length: 4 }, () => b.client.delete(`/api/messages/${dm.id}`)))).map(r => r.status)
      expect(statuses.sort()).toEqual([204, 404, 404, 404])
    }
  })

  it('totals of every box and the unread count agree with the list after deletes of sent, read and unread messages', async () => {
    const { a, b, c } = await trio()
    const toB = [] as any[]
    for (const text of ['r1', 'r2', 'r3', 'r4']) toB.push((await send(a, b, text)).body)
    const fromB = [(await send(b, a, 's1')).body, (await send(b, c, 's2')).body, (await send(b, a, 's3')).body]
    await b.client.put(`/api/messages/${toB[0].id}/read`)
    await b.client.put(`/api/messages/${toB[1].id}/read`)
    // b hides one read and one unread received message, and one sent; a hides one of b's (not b's business)
    for (const dm of [toB[0], toB[2], fromB[1]]) expect((await b.client.delete(`/api/messages/${dm.id}`)).status).toBe(204)
    expect((await a.client.delete(`/api/messages/${fromB[0].id}`)).status).toBe(204)
    const check = async (query: string) => {
      const all = (await b.client.get(`/api/messages?limit=100${query}`)).body
      expect(all.total, query).toBe(all.data.length)
      return all.data.map((m: any) => m.content).sort()
    }
    expect(await check('')).toEqual(['r2', 'r4', 's1', 's3'])
    expect(await check('&box=received')).toEqual(['r2', 'r4'])
    expect(await check('&box=sent')).toEqual(['s1', 's3'])
    expect(await check('&unread=true')).toEqual(['r4'])
    expect(await check('&box=received&unread=true')).toEqual(['r4'])
    expect(await check('&box=sent&unread=true')).toEqual([])
    expect(await check(`&with=${a.id}`)).toEqual(['r2', 'r4', 's1', 's3'])
    expect((await b.client.get('/api/messages/unread-count')).body.count).toBe(1)
    expect((await a.client.get('/api/messages')).body.total).toBe(5) // r1–r4 and s3 (a hid s1)
    // reading the last one: 0, and read-all has nothing left (the hidden unread one stays untouched)
    await b.client.put(`/api/messages/${toB[3].id}/read`)
    expect((await b.client.get('/api/messages/unread-count')).body.count).toBe(0)
    expect((await b.client.put('/api/messages/read-all')).body.updated).toBe(0)
    expect((await a.client.get(`/api/messages/${toB[2].id}`)).body.read).toBe(false)
  })

  it('a deleted sender shows as a deleted user: sender {id: null, fullName: null}', async () => {
    const { a, b } = await trio()
    const dm = (await send(a, b, 'de alguien que se irá')).body
    // what deleting the account does to the row (sender_id is set null by the foreign key)
    await sqlRun('update dms set sender_id = null where id = ?', [dm.id])
    const res = await b.client.get(`/api/messages/${dm.id}`)
    expect(res.body).toMatchObject({ senderId: null, sender: { id: null, fullName: null }, recipient: { id: b.id }, content: 'de alguien que se irá' })
    expect((await b.client.get('/api/messages')).body.data[0].sender).toEqual({ id: null, fullName: null })
  })
})

describe('GET /api/directory', () => {
  it('is in alphabetical order without case or accents, on both databases', async () => {
    const { a } = await trio()
    const tag = Math.random().toString(36).slice(2, 8)
    const names = ['zeta', 'Álvaro', 'beta', 'Carla']
    for (const name of names) {
      const person = await makeUser(admin, 'worker', null, 'dm-dir-order')
      await admin.patch(`/api/admin/users/${person.id}`, { fullName: `Orden${tag} ${name}` })
    }
    const res = await a.client.get(`/api/directory?q=${encodeURIComponent(`orden${tag}`)}`)
    expect(res.body.data.map((p: any) => p.fullName.split(' ')[1])).toEqual(['Álvaro', 'beta', 'Carla', 'zeta'])
  })


  it('active people but the caller, with id, fullName, email, role; q searches name and email', async () => {
    const { a, b } = await trio()
    const tag = Math.random().toString(36).slice(2, 8)
    await admin.patch(`/api/admin/users/${b.id}`, { fullName: `Ñandú Directorio ${tag}` })
    const inactive = await makeUser(admin, 'worker', null, 'dm-dir-off')
    await admin.patch(`/api/admin/users/${inactive.id}`, { fullName: `Ñandú Directorio ${tag} Inactivo`, active: false })
    const res = await a.client.get(`/api/directory?q=${encodeURIComponent(`ñandú directorio ${tag}`)}`)
    expect(res.status, res.text).toBe(200)
    expect(res.body).toEqual({ total: 1, data: [{ id: b.id, fullName: `Ñandú Directorio ${tag}`, email: b.email, role: 'worker' }] })
    // without the accents too
    expect((await a.client.get(`/api/directory?q=${encodeURIComponent(`nandu directorio ${tag}`)}`)).body.data.map((p: any) => p.id)).toEqual([b.id])
    const byEmail = await a.client.get(`/api/directory?q=${encodeURIComponent(b.email.toUpperCase())}`)
    expect(byEmail.body.data.map((p: any) => p.id)).toEqual([b.id])
    const all = await a.client.get('/api/directory?limit=100')
    expect(all.body.total).toBeGreaterThan(3)
    const everyone = []
    for (let offset = 0; offset < all.body.total; offset += 100) everyone.push(...(await a.client.get(`/api/directory?limit=100&offset=${offset}`)).body.data)
    expect(everyone.map((p: any) => p.id)).not.toContain(a.id)
    expect(everyone.map((p: any) => p.id)).not.toContain(inactive.id)
    expect(JSON.stringify(everyone)).not.toMatch(/password|totp/i)
    expect((await a.client.get('/api/directory?q=%00')).status).toBe(400)
  })
})

describe('MESSAGE_RATE_LIMIT', () => {
  let server: Awaited<ReturnType<typeof ownServer>>
  beforeAll(async () => { server = await ownServer({ MESSAGE_RATE_LIMIT: '5/1m' }) })
  afterAll(async () => { await server.stop() })

  it('per sender: over the limit → 429 with Retry-After; bad input does not count; other senders unaffected', async () => {
    const [a, b, c] = await Promise.all([newWorker(server.url), newWorker(server.url), newWorker(server.url)])
    for (let i = 0; i < 3; i++) expect((await a.client.post('/api/messages', { recipientId: b.user.id, content: '' })).status).toBe(400)
    const results = await Promise.all(Array.from({ length: 8 }, (_, i) => a.client.post('/api/messages', { recipientId: b.user.id, content: `m${i}` })))
    const statuses = results.map(r => r.status).sort()
    expect(statuses).toEqual([201, 201, 201, 201, 201, 429, 429, 429])
    const limited = results.find(r => r.status === 429)!
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await b.client.get('/api/messages')).body.total).toBe(5)
    expect((await c.client.post('/api/messages', { recipientId: b.user.id, content: 'yo sí' })).status).toBe(201)
  })
})

describe('a burst of 300 messages', () => {
  let server: Awaited<ReturnType<typeof ownServer>>
  beforeAll(async () => { server = await ownServer({ MESSAGE_RATE_LIMIT: '100000/1m' }) })
  afterAll(async () => { await server.stop() })

  it('loses none and duplicates none (30 at a time), and the unread count matches', async () => {
    const [a, b] = await Promise.all([newWorker(server.url), newWorker(server.url)])
    const N = 300
    const sent: string[] = []
    for (let start = 0; start < N; start += 30) {
      const batch = await Promise.all(Array.from({ length: 30 }, (_, i) => a.client.post('/api/messages', { recipientId: b.user.id, content: `ráfaga ${start + i}` })))
      for (const res of batch) {
        expect(res.status, res.text).toBe(201)
        sent.push(res.body.id)
      }
    }
    expect(new Set(sent).size).toBe(N)
    const received: Array<{ id: string, content: string }> = []
    for (let offset = 0; offset < N + 100; offset += 100) received.push(...(await b.client.get(`/api/messages?limit=100&offset=${offset}`)).body.data)
    expect(received).toHaveLength(N)
    expect(new Set(received.map(m => m.id))).toEqual(new Set(sent))
    expect(new Set(received.map(m => m.content))).toEqual(new Set(Array.from({ length: N }, (_, i) => `ráfaga ${i}`)))
    expect((await b.client.get('/api/messages/unread-count')).body.count).toBe(N)
    expect((await b.client.put('/api/messages/read-all')).body.updated).toBe(N)
  }, 120_000)
})
