import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { ending, postChat, startChatServer, type ChatServer } from '../support/chat'
import { dbQuery, dbTime } from '../support/db'
import { Client, DEMO, GOOD_PASSWORD, uniqueEmail } from '../support/http'
import { createTestDatabase, startServer } from '../support/server'

// The offline outbox sends each message with its own id (`clientId`). When the app closed, or the network dropped,
// after the server saved a send but before its answer arrived, the outbox sends it again: before, that made the
// message, the report or the question twice (a UI walk saw it in 3 of 5 runs). Now the repeat finds the first one.

let srv: ChatServer
let admin: Client
beforeAll(async () => {
  srv = await startChatServer()
  admin = new Client(srv.url)
  await admin.login(DEMO.admin.email, DEMO.admin.password)
})
afterAll(async () => { await srv?.stop() })
beforeEach(() => { srv.fake.reset() })

async function person(fullName: string) {
  const email = uniqueEmail('outbox')
  const res = await admin.post('/api/admin/users', { email, fullName, role: 'worker', password: GOOD_PASSWORD, mustChangePassword: false })
  expect(res.status).toBe(201)
  const client = new Client(srv.url)
  await client.login(email, GOOD_PASSWORD)
  return { id: res.body.user.id as string, client }
}

describe('a repeated outbox send (the same clientId) is saved once', () => {
  it('a message to a person: 201, then 200 with the same message; the thread holds it once', async () => {
    const ana = await person('Ana Outbox')
    const beto = await person('Beto Outbox')
    const clientId = randomUUID()
    const body = { recipientId: beto.id, content: 'Llego tarde al turno', clientId }
    const first = await ana.client.post('/api/messages', body)
    expect(first.status).toBe(201)
    const again = await ana.client.post('/api/messages', body)
    expect(again.status).toBe(200)
    expect(again.body).toEqual(first.body)
    const received = await beto.client.get('/api/messages?box=received')
    expect(received.body.data.filter((m: { content: string }) => m.content === 'Llego tarde al turno')).toHaveLength(1)
    // without clientId nothing changes: two sends are two messages
    for (const status of [201, 201]) expect((await ana.client.post('/api/messages', { recipientId: beto.id, content: 'Dos veces' })).status).toBe(status)
  })

  it('a report: 201, then 200 with the same report; the reporter has one', async () => {
    const ana = await person('Ana Reporte')
    const clientId = randomUUID()
    const body = { title: 'Fuga en la válvula 4', content: 'Pierde agua desde anoche.', clientId }
    const first = await ana.client.post('/api/reports', body)
    expect(first.status).toBe(201)
    const again = await ana.client.post('/api/reports', body)
    expect(again.status).toBe(200)
    expect(again.body.id).toBe(first.body.id)
    expect(again.body).toMatchObject({ title: 'Fuga en la válvula 4', status: 'open' })
    const mine = await ana.client.get('/api/reports')
    expect(mine.body.total).toBe(1)
  })

  it('a chat question: the first is answered; the repeat is 409 already-sent naming its conversation and message, and nothing is saved again', async () => {
    const ana = await person('Ana Chat')
    const clientId = randomUUID()
    const first = await postChat(ana.client, { message: '¿Cuándo es la mantención?', clientId })
    expect(ending(first)!.event).toBe('done')
    const { conversationId, userMessageId } = first.events[0]!.data as { conversationId: string, userMessageId: string }
    const modelCalls = srv.fake.chatRequests.length

    const again = await postChat(ana.client, { message: '¿Cuándo es la mantención?', clientId })
    expect(again.status).toBe(409)
    expect(again.json).toMatchObject({ statusCode: 409, data: { reason: 'already-sent', conversationId, messageId: userMessageId } })
    expect(srv.fake.chatRequests.length).toBe(modelCalls)
    const list = await ana.client.get('/api/conversations')
    expect(list.body.total).toBe(1)
    const messages = await ana.client.get(`/api/conversations/${conversationId}/messages`)
    expect(messages.body.data.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant'])

    // gone since (deleted): still already sent, with no conversation to open
    expect((await ana.client.delete(`/api/conversations/${conversationId}`)).status).toBe(204)
    const afterDelete = await postChat(ana.client, { message: '¿Cuándo es la mantención?', clientId })
    expect(afterDelete.status).toBe(409)
    expect(afterDelete.json).toMatchObject({ data: { reason: 'already-sent', conversationId: null, messageId: null } })
  })

  it('a clientId is the sender\'s own: another user\'s send with the same id is theirs; reused for another kind → 409 naming clientId; a malformed one → 400', async () => {
    const ana = await person('Ana Ids')
    const beto = await person('Beto Ids')
    const clientId = randomUUID()
    expect((await ana.client.post('/api/reports', { title: 'Uno', content: 'Primero', clientId })).status).toBe(201)
    expect((await beto.client.post('/api/reports', { title: 'Otro', content: 'De Beto', clientId })).status).toBe(201)

    const reused = await ana.client.post('/api/messages', { recipientId: beto.id, content: 'Hola', clientId })
    expect(reused.status).toBe(409)
    expect(reused.body.data.fields).toEqual({ clientId: expect.any(String) })

    const bad = await ana.client.post('/api/reports', { title: 'Mal', content: 'Id malo', clientId: 'abc' })
    expect(bad.status).toBe(400)
    expect(bad.body.data.fields).toEqual({ clientId: expect.any(String) })
    const badChat = await postChat(ana.client, { message: 'Hola', clientId: 42 })
    expect(badChat.status).toBe(400)
    expect(badChat.json.data.fields).toEqual({ clientId: expect.any(String) })
  })
})

describe('forgotten after 90 days', () => {
  it('the job worker\'s purge (as it starts, then hourly) drops sends older than 90 days and keeps the rest', async () => {
    // a database of its own: the purge runs when a process starts, and one process at a time may use a database
    const db = await createTestDatabase(inject('dbKind'))
    let server = await startServer({ DATABASE_URL: db.url })
    try {
      const [{ id }] = await dbQuery<{ id: string }>('select id from users where email = ?', [DEMO.worker.email], db.url)
      const day = 86_400_000
      const rows = { old: randomUUID(), recent: randomUUID() }
      await dbQuery('insert into client_sends (user_id, client_id, kind, target_id, created_at) values (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)', [
        id, rows.old, 'report', randomUUID(), dbTime(new Date(Date.now() - 91 * day), db.url),
        id, rows.recent, 'report', randomUUID(), dbTime(new Date(Date.now() - 89 * day), db.url),
      ], db.url)
      const left = async () => (await dbQuery<{ client_id: string }>('select client_id from client_sends where user_id = ?', [id], db.url)).map(r => r.client_id).sort()
      expect(await left()).toEqual([rows.old, rows.recent].sort())
      await server.stop()
      server = await startServer({ DATABASE_URL: db.url })
      await expect.poll(left, { timeout: 20_000 }).toEqual([rows.recent])
    }
    finally {
      await server.stop()
      await db.drop()
    }
  })
})
