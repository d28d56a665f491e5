import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, newWorker } from '../support/http'
import { demoAdmin, makeUser, ownServer, type TestUser } from './admin-support'
import { LiveReader } from './live-reader'

// API.md "Live events": GET /api/events, one text/event-stream per tab.

let admin: Client
const readers: LiveReader[] = []
const open = async (client: Client) => {
  const reader = await LiveReader.open(client)
  readers.push(reader)
  return reader
}

beforeAll(async () => { admin = await demoAdmin() })
afterAll(async () => { await Promise.all(readers.map(r => r.close())) })

async function pair() {
  const sup = await makeUser(admin, 'supervisor', null, 'ev-s')
  const [a, b] = await Promise.all([makeUser(admin, 'worker', sup.id, 'ev-a'), makeUser(admin, 'worker', sup.id, 'ev-b')])
  return { sup, a: a!, b: b! }
}

describe('GET /api/events', () => {
  it('signed out → 401; signed in → 200 text/event-stream whose first event is unread {count}', async () => {
    expect((await new Client().get('/api/events')).status).toBe(401)
    const { a, b } = await pair()
    await a.client.post('/api/messages', { recipientId: b.id, content: 'uno' })
    await a.client.post('/api/messages', { recipientId: b.id, content: 'dos' })
    const live = await open(b.client)
    expect(live.status).toBe(200)
    expect(live.contentType).toMatch(/^text\/event-stream/)
    await expect.poll(() => live.events.length).toBeGreaterThan(0)
    expect(live.events[0]).toEqual({ event: 'unread', data: { count: 2 } })
  })

  it('a new message reaches the recipient as dm {dm} and a new unread count; reading lowers it; the sender gets no dm event', async () => {
    const { a, b } = await pair()
    const [liveA, liveB] = await Promise.all([open(a.client), open(b.client)])
    await expect.poll(() => liveB.lastUnread()).toBe(0)
    await expect.poll(() => liveA.lastUnread()).toBe(0)
    const sent = (await a.client.post('/api/messages', { recipientId: b.id, content: 'en vivo' })).body
    await expect.poll(() => liveB.named('dm').length).toBe(1)
    expect(liveB.named('dm')[0]).toEqual({ dm: sent })
    await expect.poll(() => liveB.lastUnread()).toBe(1)
    await b.client.put(`/api/messages/${sent.id}/read`)
    await expect.poll(() => liveB.lastUnread()).toBe(0)
    await a.client.post('/api/messages', { recipientId: b.id, content: 'otro' })
    await a.client.post('/api/messages', { recipientId: b.id, content: 'y otro' })
    await expect.poll(() => liveB.lastUnread()).toBe(2)
    await b.client.put('/api/messages/read-all')
    await expect.poll(() => liveB.lastUnread()).toBe(0)
    expect(liveA.named('dm')).toEqual([])
    expect(liveA.named('unread')).toEqual([{ count: 0 }])
  })

  it('every open tab of the recipient gets the event', async () => {
    const { a, b } = await pair()
    const tabs = await Promise.all([open(b.client), open(b.client), open(b.client)])
    for (const tab of tabs) await expect.poll(() => tab.lastUnread()).toBe(0)
    await a.client.post('/api/messages', { recipientId: b.id, content: 'a todas las pestañas' })
    for (const tab of tabs) await expect.poll(() => tab.named('dm').length).toBe(1)
  })

  it('an edit reaches both participants as dm-update {dm}; a delete reaches only the deleter\'s own tabs as dm-delete {id}', async () => {
    const { a, b } = await pair()
    const sent = (await a.client.post('/api/messages', { recipientId: b.id, content: 'antes' })).body
    const [liveA, liveA2, liveB] = await Promise.all([open(a.client), open(a.client), open(b.client)])
    for (const live of [liveA, liveA2, liveB]) await expect.poll(() => live.events.length).toBeGreaterThan(0)
    const edited = (await a.client.put(`/api/messages/${sent.id}`, { content: 'después' })).body
    expect(edited.editedAt).toBeTruthy()
    for (const live of [liveA, liveA2, liveB]) await expect.poll(() => live.named('dm-update')).toEqual([{ dm: edited }])
    expect((await b.client.delete(`/api/messages/${sent.id}`)).status).toBe(204)
    await expect.poll(() => liveB.named('dm-delete')).toEqual([{ id: sent.id }])
    // the recipient deleted it: a later edit is not sent to them, and the sender never hears of their delete
    const again = (await a.client.put(`/api/messages/${sent.id}`, { content: 'otra vez' })).body
    await expect.poll(() => liveA.named('dm-update').length).toBe(2)
    expect(liveA.named('dm-update')[1]).toEqual({ dm: again })
    expect(liveA.named('dm-delete')).toEqual([])
    expect(liveB.named('dm-update')).toHaveLength(1)
  })

  it('reading tells each sender live as dm-update {dm} with read: true (PUT …/read and read-all), and the reader\'s own tabs; not a sender who deleted it', async () => {
    const { sup, a, b } = await pair()
    const c = (await makeUser(admin, 'worker', sup.id, 'ev-c'))!
    const send = async (from: TestUser, content: string) => (await from.client.post('/api/messages', { recipientId: b.id, content })).body
    const [one, hiddenOne, three, hiddenFour] = [await send(a, 'uno'), await send(a, 'dos'), await send(a, 'tres'), await send(a, 'cuatro')]
    const fromC = await send(c, 'de otra persona')
    // Ana deletes two of hers from her view: their reads must not reach her
    for (const dm of [hiddenOne, hiddenFour]) expect((await a.client.delete(`/api/messages/${dm.id}`)).status).toBe(204)
    const [liveA, liveA2, liveB, liveC] = await Promise.all([open(a.client), open(a.client), open(b.client), open(c.client)])
    for (const live of [liveA, liveA2, liveB, liveC]) await expect.poll(() => live.events.length).toBeGreaterThan(0)

    const read = (await b.client.put(`/api/messages/${one.id}/read`)).body
    expect(read.read).toBe(true)
    // every tab of the sender, with the message as she reads it herself
    for (const live of [liveA, liveA2]) await expect.poll(() => live.named('dm-update')).toEqual([{ dm: read }])
    expect((await a.client.get(`/api/messages/${one.id}`)).body).toEqual(read)
    // reading again changes nothing and tells nobody; the hidden one is read without a word to Ana
    await b.client.put(`/api/messages/${one.id}/read`)
    expect((await b.client.put(`/api/messages/${hiddenOne.id}/read`)).body.read).toBe(true)

    expect((await b.client.put('/api/messages/read-all')).body).toEqual({ updated: 3 })
    await expect.poll(() => liveA.named('dm-update').length).toBe(2)
    const threeRead = (await a.client.get(`/api/messages/${three.id}`)).body
    expect(threeRead.read).toBe(true)
    await expect.poll(() => liveC.named('dm-update')).toEqual([{ dm: (await c.client.get(`/api/messages/${fromC.id}`)).body }])
    // an edit after it all is the last event Ana's tabs get: nothing else about her messages came before it
    const edited = (await a.client.put(`/api/messages/${three.id}`, { content: 'tres, editado' })).body
    for (const live of [liveA, liveA2]) await expect.poll(() => live.named('dm-update')).toEqual([{ dm: read }, { dm: threeRead }, { dm: edited }])
    expect(edited.read).toBe(true)
    // the reader's tabs hear her unread count and every message she read (her other tabs un-bold them), then the
    // edit; the other sender nothing of Ana's messages
    await expect.poll(() => liveB.lastUnread()).toBe(0)
    await expect.poll(() => liveB.named('dm-update').length).toBe(6)
    const toReader = liveB.named('dm-update').map((e: any) => e.dm)
    expect(toReader.slice(0, 2).map((dm: any) => dm.id)).toEqual([one.id, hiddenOne.id])
    expect(toReader.slice(2, 5).map((dm: any) => dm.id).sort()).toEqual([three.id, hiddenFour.id, fromC.id].sort())
    expect(toReader.slice(0, 5).every((dm: any) => dm.read === true && dm.readAt)).toBe(true)
    expect(toReader[5]).toEqual(edited)
    expect(liveC.named('dm-update')).toHaveLength(1)
  })

  it('report events: staff in scope hear of new and changed reports; the reporter of changes; others nothing', async () => {
    const { sup, a, b } = await pair()
    const otherSup = await makeUser(admin, 'supervisor', null, 'ev-s2')
    const [liveSup, liveOther, liveA, liveB] = await Promise.all([open(sup.client), open(otherSup.client), open(a.client), open(b.client)])
    for (const live of [liveSup, liveOther, liveA, liveB]) await expect.poll(() => live.lastUnread()).toBe(0)
    const report = (await a.client.post('/api/reports', { title: 'Luz quemada', content: 'Pasillo 3' })).body
    await expect.poll(() => liveSup.named('report')).toContainEqual({ id: report.id, status: 'open' })
    await sup.client.post(`/api/reports/${report.id}/comments`, { content: 'voy', status: 'in_progress' })
    await expect.poll(() => liveA.named('report')).toContainEqual({ id: report.id, status: 'in_progress' })
    await sup.client.put(`/api/reports/${report.id}/resolve`, {})
    await expect.poll(() => liveA.named('report')).toContainEqual({ id: report.id, status: 'resolved' })
    await expect.poll(() => liveSup.named('report')).toContainEqual({ id: report.id, status: 'resolved' })
    // a later message proves the other streams were live all along and simply heard nothing about the report
    await sup.client.post('/api/messages', { recipientId: otherSup.id, content: 'ping' })
    await sup.client.post('/api/messages', { recipientId: b.id, content: 'ping' })
    await expect.poll(() => liveOther.named('dm').length).toBe(1)
    await expect.poll(() => liveB.named('dm').length).toBe(1)
    expect(liveOther.named('report')).toEqual([])
    expect(liveB.named('report')).toEqual([])
  })

  it('a rename reaches every tab of the owner as conversation {id, title}; nobody else hears of it, their supervisor neither', async () => {
    const { sup, a, b } = await pair()
    const [tab1, tab2, liveB, liveSup] = await Promise.all([open(a.client), open(a.client), open(b.client), open(sup.client)])
    for (const live of [tab1, tab2, liveB, liveSup]) await expect.poll(() => live.lastUnread()).toBe(0)
    const created = (await a.client.post('/api/conversations', {})).body
    // pinning is not a title change: no event for it
    expect((await a.client.patch(`/api/conversations/${created.id}`, { pinned: true })).status).toBe(200)
    expect((await a.client.patch(`/api/conversations/${created.id}`, { title: 'Turno de noche' })).status).toBe(200)
    for (const tab of [tab1, tab2]) await expect.poll(() => tab.named('conversation')).toEqual([{ id: created.id, title: 'Turno de noche' }])
    // someone else's rename attempt is refused and tells nobody anything
    expect((await b.client.patch(`/api/conversations/${created.id}`, { title: 'Intruso' })).status).toBe(404)
    // a later message proves the other streams were live all along
    await a.client.post('/api/messages', { recipientId: b.id, content: 'ping' })
    await a.client.post('/api/messages', { recipientId: sup.id, content: 'ping' })
    await expect.poll(() => liveB.named('dm').length).toBe(1)
    await expect.poll(() => liveSup.named('dm').length).toBe(1)
    expect(liveB.named('conversation')).toEqual([])
    expect(liveSup.named('conversation')).toEqual([])
    expect(tab1.named('conversation')).toHaveLength(1)
  })

  it('revoking the session ends the stream within 30 s', async () => {
    const { a } = await pair()
    const live = await open(a.client)
    await expect.poll(() => live.lastUnread()).toBe(0)
    expect((await a.client.post('/api/auth/logout')).status).toBe(204)
    await expect.poll(() => live.ended, { timeout: 30_000, interval: 250 }).toBe(true)
  }, 45_000)

  it('deactivating the user ends their streams within 30 s (cookie and API token alike)', async () => {
    const { a } = await pair()
    // newer branches ask for the password (re-authentication); older ones refuse the unknown field
    let created = await a.client.post('/api/auth/tokens', { name: 'eventos', password: a.password })
    if (created.status === 400) created = await a.client.post('/api/auth/tokens', { name: 'eventos' })
    expect(created.status, created.text).toBe(201)
    const token = created.body.token
    const script = new Client()
    script.bearer = token
    const [byCookie, byToken] = await Promise.all([open(a.client), open(script)])
    await expect.poll(() => byToken.lastUnread()).toBe(0)
    await expect.poll(() => byCookie.lastUnread()).toBe(0)
    expect((await admin.patch(`/api/admin/users/${a.id}`, { active: false })).status).toBe(200)
    await expect.poll(() => byCookie.ended && byToken.ended, { timeout: 30_000, interval: 250 }).toBe(true)
  }, 45_000)
})

describe('keep-alive (a server with short intervals)', () => {
  let server: Awaited<ReturnType<typeof ownServer>>
  beforeAll(async () => { server = await ownServer({ EVENTS_PING_MS: '300', EVENTS_RECHECK_MS: '300' }) })
  afterAll(async () => { await server.stop() })

  it('sends `: ping` comment lines while idle; a removed session ends the stream', async () => {
    const me: { client: Client, user: TestUser | { id: string } } = await newWorker(server.url)
    const live = await open(me.client)
    await expect.poll(() => live.comments.filter(c => c === ': ping').length).toBeGreaterThanOrEqual(2)
    expect(live.ended).toBe(false)
    const sessions = (await me.client.get('/api/auth/sessions')).body.data
    expect((await me.client.delete(`/api/auth/sessions/${sessions[0].id}`)).status).toBe(204)
    await expect.poll(() => live.ended, { timeout: 10_000 }).toBe(true)
  })
})
