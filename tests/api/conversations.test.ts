import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ChatServer, ending, postChat, startChatServer } from '../support/chat'
import { Client, DEMO, newWorker } from '../support/http'

let srv: ChatServer
beforeAll(async () => { srv = await startChatServer() })
afterAll(async () => { await srv?.stop() })

const worker = () => newWorker(srv.url)
const signedIn = async (who: { email: string, password: string }) => {
  const client = new Client(srv.url)
  await client.login(who.email, who.password)
  return client
}
const create = async (client: Client, body: Record<string, unknown> = {}) => {
  const res = await client.post('/api/conversations', body)
  expect(res.status).toBe(201)
  return res.body
}
/** Sends `message` (into `conversationId` when given) and returns the conversation id. */
const chat = async (client: Client, message: string, conversationId?: string) => {
  const reply = await postChat(client, { message, conversationId })
  expect(ending(reply)?.event).toBe('done')
  return reply.events[0]!.data.conversationId as string
}
const titles = (body: any) => body.data.map((c: any) => c.title)
const pause = () => new Promise(resolve => setTimeout(resolve, 5))

describe('conversations: create, read, update, delete', () => {
  it('POST creates an empty conversation with the default prompt and model (201, API.md shape)', async () => {
    const { client, user } = await worker()
    const prompts = (await client.get('/api/system-prompts')).body.data
    const conversation = await create(client)
    expect(Object.keys(conversation).sort()).toEqual(['archived', 'createdAt', 'id', 'messageCount', 'model', 'pinned', 'systemPromptId', 'title', 'updatedAt', 'userId'])
    expect(conversation).toMatchObject({
      userId: user.id,
      title: 'Nueva conversación',
      model: 'qwen2.5:3b-instruct',
      systemPromptId: prompts.find((p: any) => p.isDefault).id,
      pinned: false,
      archived: false,
      messageCount: 0,
    })
    expect(new Date(conversation.createdAt).toISOString()).toBe(conversation.createdAt)
    expect((await client.get(`/api/conversations/${conversation.id}`)).body).toEqual(conversation)
    const named = await create(client, { title: '  Plan de mantención  ' })
    expect(named.title).toBe('Plan de mantención')
  })

  it('POST/PATCH reject bad input with a 400 naming the field', async () => {
    const { client } = await worker()
    const cases: Array<[string, unknown, string]> = [
      ['post', { systemPromptId: randomUUID() }, 'systemPromptId'],
      ['post', { systemPromptId: 'nope' }, 'systemPromptId'],
      ['post', { title: 'x'.repeat(201) }, 'title'],
      ['post', { owner: 'me' }, 'owner'],
      ['patch', { title: '' }, 'title'],
      ['patch', { title: 7 }, 'title'],
      ['patch', { pinned: 'yes' }, 'pinned'],
      ['patch', { archived: 1 }, 'archived'],
      ['patch', { userId: randomUUID() }, 'userId'],
    ]
    const { id } = await create(client)
    for (const [method, body, field] of cases) {
      const res = method === 'post' ? await client.post('/api/conversations', body) : await client.patch(`/api/conversations/${id}`, body)
      expect(res.status, `${method} ${JSON.stringify(body)}`).toBe(400)
      expect(res.body.message).toMatch(new RegExp(`^${field}\\b`))
    }
    expect((await client.request(`/api/conversations/${id}`, { method: 'PATCH', raw: '{"title":' })).status).toBe(400)
    expect((await client.get('/api/conversations/not-an-id')).status).toBe(400)
    expect((await client.get(`/api/conversations/${randomUUID()}`)).status).toBe(404)
  })

  it('PATCH renames, pins and archives (owner only) without reordering by activity', async () => {
    const { client } = await worker()
    const { id, updatedAt } = await create(client)
    const res = await client.patch(`/api/conversations/${id}`, { title: 'Informe mensual', pinned: true, archived: true })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id, title: 'Informe mensual', pinned: true, archived: true, updatedAt })
    expect((await client.get(`/api/conversations/${id}`)).body).toMatchObject({ title: 'Informe mensual', pinned: true, archived: true })
    expect((await client.patch(`/api/conversations/${id}`, { archived: false })).body).toMatchObject({ archived: false, pinned: true })
  })

  it('DELETE by the owner → 204, then the conversation and its messages are gone', async () => {
    const { client } = await worker()
    const id = await chat(client, 'Algo que borraré')
    expect((await client.delete(`/api/conversations/${id}`)).status).toBe(204)
    expect((await client.get(`/api/conversations/${id}`)).status).toBe(404)
    expect((await client.get(`/api/conversations/${id}/messages`)).status).toBe(404)
    expect((await client.delete(`/api/conversations/${id}`)).status).toBe(404)
    expect((await client.get('/api/conversations')).body.total).toBe(0)
  })

  // Contract audit: five deletes at once all answered 204 on PostgreSQL (the row was gone for four of them), and
  // one 204 and four 404 on SQLite. A delete that finds nothing left is a second delete: 404, on both.
  it('deletes at once: exactly one 204, the others 404, as one after another would', async () => {
    const { client } = await worker()
    const id = await chat(client, 'Borrado doble')
    const statuses = (await Promise.all(Array.from({ length: 5 }, () => client.delete(`/api/conversations/${id}`)))).map(r => r.status)
    expect(statuses.filter(s => s === 204)).toHaveLength(1)
    expect(statuses.filter(s => s === 404)).toHaveLength(4)
    expect((await client.get('/api/conversations')).body.total).toBe(0)
  })
})

describe('conversations: scope', () => {
  it('a worker cannot read, write, rename, export or delete another user\'s conversation (404)', async () => {
    const owner = await worker()
    const id = await chat(owner.client, 'Mi conversación privada')
    const { client: other } = await worker()
    const attempts = [
      await other.get(`/api/conversations/${id}`),
      await other.patch(`/api/conversations/${id}`, { title: 'robado' }),
      await other.delete(`/api/conversations/${id}`),
      await other.get(`/api/conversations/${id}/messages`),
      await other.get(`/api/conversations/${id}/export?format=md`),
      await other.get(`/api/conversations/${id}/export?format=json`),
      await other.get(`/api/conversations?userId=${owner.user.id}`),
    ]
    expect(attempts.map(r => r.status)).toEqual([404, 404, 404, 404, 404, 404, 404])
    expect((await postChat(other, { message: 'hola', conversationId: id })).status).toBe(404)
    expect((await other.get('/api/conversations')).body.total).toBe(0)
    const still = (await owner.client.get(`/api/conversations/${id}`)).body
    expect(still).toMatchObject({ title: 'Hola, soy un modelo de prueba', messageCount: 2 })
  })

  it('a supervisor reads their team (audited) but cannot rename; out of scope → 404; an admin may delete (audited)', async () => {
    const worker1 = await signedIn(DEMO.worker)
    const me = (await worker1.get('/api/auth/me')).body
    const id = await chat(worker1, 'Consulta del equipo')
    const supervisor = await signedIn(DEMO.supervisor)

    const list = await supervisor.get(`/api/conversations?userId=${me.id}`)
    expect(list.status).toBe(200)
    expect(list.body.data.map((c: any) => c.id)).toContain(id)
    expect((await supervisor.get(`/api/conversations/${id}/messages`)).body.total).toBe(2)
    expect((await supervisor.patch(`/api/conversations/${id}`, { title: 'x' })).status).toBe(403)
    expect((await supervisor.delete(`/api/conversations/${id}`)).status).toBe(403)

    const outsider = await worker()
    await chat(outsider.client, 'Fuera del equipo')
    expect((await supervisor.get(`/api/conversations?userId=${outsider.user.id}`)).status).toBe(404)
    expect((await supervisor.get(`/api/conversations?userId=${randomUUID()}`)).status).toBe(404)

    const admin = await signedIn(DEMO.admin)
    expect((await admin.get(`/api/conversations?userId=${outsider.user.id}`)).body.total).toBe(1)
    expect((await admin.delete(`/api/conversations/${id}`)).status).toBe(204)
    const audit = (await admin.get(`/api/admin/audit?limit=100`)).body.data
    expect(audit).toEqual(expect.arrayContaining([
      expect.objectContaining({ action: 'conversation.read', targetId: id, actorId: (await supervisor.get('/api/auth/me')).body.id }),
      expect.objectContaining({ action: 'conversation.deleted', targetId: id }),
    ]))
  })
})

describe('conversations: list, search, paging, export', () => {
  it('lists pinned first, then newest activity first, with totals and limit/offset', async () => {
    const { client } = await worker()
    const a = await create(client, { title: 'A' })
    await pause()
    const b = await create(client, { title: 'B' })
    await pause()
    await create(client, { title: 'C' })
    expect(titles((await client.get('/api/conversations')).body)).toEqual(['C', 'B', 'A'])
    await chat(client, 'actividad', a.id)
    expect(titles((await client.get('/api/conversations')).body)).toEqual(['A', 'C', 'B'])
    await client.patch(`/api/conversations/${b.id}`, { pinned: true })
    const all = (await client.get('/api/conversations')).body
    expect(titles(all)).toEqual(['B', 'A', 'C'])
    expect(all.total).toBe(3)
    expect(all.data.find((c: any) => c.id === a.id).messageCount).toBe(2)
    const page = (await client.get('/api/conversations?limit=1&offset=1')).body
    expect(page).toMatchObject({ total: 3 })
    expect(titles(page)).toEqual(['A'])
    await client.patch(`/api/conversations/${a.id}`, { archived: true })
    expect(titles((await client.get('/api/conversations?archived=true')).body)).toEqual(['A'])
    expect(titles((await client.get('/api/conversations?archived=false')).body)).toEqual(['B', 'C'])
  })

  it('bad paging → 400 naming limit/offset', async () => {
    const { client } = await worker()
    for (const [query, field] of [['limit=0', 'limit'], ['limit=101', 'limit'], ['limit=abc', 'limit'], ['offset=-1', 'offset'], ['offset=1.5', 'offset'], ['userId=x', 'userId'], ['archived=maybe', 'archived']]) {
      const res = await client.get(`/api/conversations?${query}`)
      expect(res.status, query).toBe(400)
      expect(res.body.message).toMatch(new RegExp(`^${field}\\b`))
    }
    // the message says what is wrong: a negative offset is below the bound, not "not a number"
    expect((await client.get('/api/conversations?offset=-1')).body.message).toBe('offset: must be at least 0')
    expect((await client.get('/api/conversations?limit=-5')).body.message).toBe('limit: must be at least 1')
  })

  it('q searches titles and message text case-insensitively, accents included, wildcards literal', async () => {
    const { client } = await worker()
    await create(client, { title: 'Receta de Pan Amasado' })
    await chat(client, 'Háblame del ÑANDÚ y la Ñipa')
    await create(client, { title: '100% renovable' })
    await create(client, { title: 'Otra cosa' })
    const search = async (q: string) => titles((await client.get(`/api/conversations?q=${encodeURIComponent(q)}`)).body).sort()
    expect(await search('receta de PAN')).toEqual(['Receta de Pan Amasado'])
    expect(await search('ñandú')).toHaveLength(1)
    expect(await search('ÑIPA')).toHaveLength(1)
    // the fake's answer is in the assistant message: message text of either role is searched
    expect(await search('MODELO DE PRUEBA')).toHaveLength(1)
    expect(await search('100%')).toEqual(['100% renovable'])
    expect(await search('%')).toEqual(['100% renovable'])
    expect(await search('_')).toEqual([])
    expect(await search('no existe nada así')).toEqual([])
    expect((await client.get('/api/conversations?q=pan&limit=1')).body.total).toBe(1)
  })

  it('messages page backwards with before: newest page first, oldest first within a page', async () => {
    const { client } = await worker()
    const id = await chat(client, 'uno')
    await chat(client, 'dos', id)
    await chat(client, 'tres', id)
    const contentOf = (body: any) => body.data.map((m: any) => m.role === 'user' ? m.content : 'A')
    const newest = (await client.get(`/api/conversations/${id}/messages?limit=2`)).body
    expect(newest.total).toBe(6)
    expect(contentOf(newest)).toEqual(['tres', 'A'])
    const older = (await client.get(`/api/conversations/${id}/messages?limit=3&before=${newest.data[0].id}`)).body
    expect(contentOf(older)).toEqual(['A', 'dos', 'A'])
    const oldest = (await client.get(`/api/conversations/${id}/messages?limit=50&before=${older.data[0].id}`)).body
    expect(contentOf(oldest)).toEqual(['uno'])
    expect((await client.get(`/api/conversations/${id}/messages?before=${oldest.data[0].id}`)).body).toEqual({ total: 6, data: [] })
    const message = newest.data[1]
    expect(Object.keys(message).sort()).toEqual(expect.arrayContaining(['content', 'conversationId', 'createdAt', 'id', 'model', 'role', 'status', 'usage']))
    expect(message.usage).toMatchObject({ promptTokens: expect.any(Number), completionTokens: 8 })
    expect(newest.data[0].usage).toBeNull()
    expect((await client.get(`/api/conversations/${id}/messages?before=${randomUUID()}`)).status).toBe(404)
    expect((await client.get(`/api/conversations/${id}/messages?before=nope`)).status).toBe(400)
    expect((await client.get(`/api/conversations/${id}/messages?limit=0`)).status).toBe(400)
    // offset (the lists' convention; it was ignored here) skips the newest, the way before does
    expect(contentOf((await client.get(`/api/conversations/${id}/messages?limit=3&offset=2`)).body)).toEqual(['A', 'dos', 'A'])
    expect(contentOf((await client.get(`/api/conversations/${id}/messages?limit=2&offset=1&before=${newest.data[0].id}`)).body)).toEqual(['A', 'dos'])
    expect((await client.get(`/api/conversations/${id}/messages?offset=6`)).body).toEqual({ total: 6, data: [] })
    expect((await client.get(`/api/conversations/${id}/messages?offset=-1`)).status).toBe(400)
  })

  it('the export\'s filename* is valid RFC 5987 for any title: \' ( ) * are percent-encoded too', async () => {
    const { client } = await worker()
    const id = await chat(client, 'plan')
    await client.patch(`/api/conversations/${id}`, { title: "Plan d'acción (v2) *final*" })
    const res = await client.get(`/api/conversations/${id}/export?format=md`)
    expect(res.status).toBe(200)
    const star = /filename\*=UTF-8''([^;]+)$/.exec(res.headers.get('content-disposition') ?? '')?.[1]
    expect(star).toBe('Plan%20d%27acci%C3%B3n%20%28v2%29%20%2Afinal%2A.md')
    // RFC 5987 attr-char only, and it decodes back to the title
    expect(star).toMatch(/^[A-Za-z0-9!#$&+.^_`|~%-]+$/)
    expect(decodeURIComponent(star!)).toBe("Plan d'acción (v2) *final*.md")
  })

  it('exports as Markdown and JSON attachments', async () => {
    const { client } = await worker()
    const id = await chat(client, '¿Cuál es el horario de la planta?')
    await client.patch(`/api/conversations/${id}`, { title: 'Horario de la planta' })
    const md = await client.get(`/api/conversations/${id}/export?format=md`)
    expect(md.status).toBe(200)
    expect(md.headers.get('content-type')).toMatch(/^text\/markdown/)
    expect(md.headers.get('content-disposition')).toMatch(/^attachment; filename="horario-de-la-planta\.md"/)
    expect(md.text).toContain('# Horario de la planta')
    expect(md.text).toContain('¿Cuál es el horario de la planta?')
    expect(md.text).toContain('Hola, soy un modelo de prueba.')

    const json = await client.get(`/api/conversations/${id}/export?format=json`)
    expect(json.headers.get('content-disposition')).toMatch(/^attachment; filename="horario-de-la-planta\.json"/)
    expect(json.body.conversation).toMatchObject({ id, title: 'Horario de la planta', messageCount: 2 })
    expect(json.body.messages.map((m: any) => m.content)).toEqual(['¿Cuál es el horario de la planta?', 'Hola, soy un modelo de prueba.'])

    expect((await client.get(`/api/conversations/${id}/export`)).headers.get('content-type')).toMatch(/^text\/markdown/)
    const bad = await client.get(`/api/conversations/${id}/export?format=pdf`)
    expect(bad.status).toBe(400)
    expect(bad.body.message).toMatch(/^format\b/)
  })

  it('the Markdown gives its dates in words, in the reader\'s time zone (tz), naming it; UTC without one', async () => {
    const { client } = await worker()
    const id = await chat(client, 'turnos')
    const { createdAt } = (await client.get(`/api/conversations/${id}`)).body
    const inZone = (timeZone: string) => new Intl.DateTimeFormat('es-CL', { timeZone, dateStyle: 'medium', timeStyle: 'short' }).format(new Date(createdAt))

    const santiago = await client.get(`/api/conversations/${id}/export?format=md&tz=America%2FSantiago`)
    expect(santiago.status).toBe(200)
    expect(santiago.text).toContain(`- Creada: ${inZone('America/Santiago')}`)
    expect(santiago.text).toContain('- Zona horaria: America/Santiago')
    expect(santiago.text).not.toMatch(/\d{4}-\d\d-\d\dT\d\d:/)
    const utc = await client.get(`/api/conversations/${id}/export?format=md`)
    expect(utc.text).toContain(`- Creada: ${inZone('UTC')}`)
    expect(utc.text).toContain('- Zona horaria: UTC')
    // Santiago is 3 or 4 hours behind UTC all year: the two files cannot agree
    expect(inZone('America/Santiago')).not.toBe(inZone('UTC'))

    for (const tz of ['Mars/Olympus', 'x'.repeat(80), '']) {
      const bad = await client.get(`/api/conversations/${id}/export?format=md&tz=${encodeURIComponent(tz)}`)
      expect(bad.status, tz).toBe(400)
      expect(bad.body.message).toMatch(/^tz\b/)
    }
    // JSON keeps ISO dates whatever the zone
    expect((await client.get(`/api/conversations/${id}/export?format=json&tz=America%2FSantiago`)).body.conversation.createdAt).toBe(createdAt)
  })
})
