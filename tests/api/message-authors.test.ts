import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ending, isTitleCall, postChat, startChatServer, type ChatServer } from '../support/chat'
import { Client, DEMO, GOOD_PASSWORD, uniqueEmail } from '../support/http'

// A user message stays its writer's when the conversation moves to someone else (docs/api.md `message.author`):
// the new owner and the admin reader see whose question it was, the new owner cannot edit it, and a deleted writer's
// questions say so. Before, every user message was shown as the current owner's.

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
  const email = uniqueEmail('author')
  const res = await admin.post('/api/admin/users', { email, fullName, role: 'worker', password: GOOD_PASSWORD, mustChangePassword: false })
  expect(res.status).toBe(201)
  const client = new Client(srv.url)
  await client.login(email, GOOD_PASSWORD)
  return { id: res.body.user.id as string, fullName, client }
}

type Message = { id: string, role: string, content: string, author?: { id: string, fullName: string } | null }
const messagesOf = async (client: Client, path: string) => {
  const res = await client.get(path)
  expect(res.status).toBe(200)
  return res.body.data as Message[]
}

async function askedBy(client: Client, message: string, conversationId?: string) {
  const reply = await postChat(client, { message, ...(conversationId ? { conversationId } : {}) })
  expect(ending(reply)!.event).toBe('done')
  return reply.events[0]!.data.conversationId as string
}

describe('user messages keep their writer across a reassignment', () => {
  it('the new owner, the admin reader and the export name the previous owner; the new owner\'s own questions carry no author', async () => {
    const ana = await person('Ana Autora')
    const beto = await person('Beto Heredero')
    const conversationId = await askedBy(ana.client, 'Pregunta de Ana')
    // before any move every message is the owner's: API.md's exact shape, no `author` key
    const own = await messagesOf(ana.client, `/api/conversations/${conversationId}/messages`)
    expect(own.map(m => m.role)).toEqual(['user', 'assistant'])
    expect(own.every(m => !('author' in m))).toBe(true)
    expect(Object.keys(own[0]!).sort()).toEqual(['content', 'conversationId', 'createdAt', 'id', 'model', 'role', 'status', 'usage'])

    expect((await admin.patch(`/api/admin/conversations/${conversationId}/reassign`, { targetUserId: beto.id })).status).toBe(200)
    await askedBy(beto.client, 'Pregunta de Beto', conversationId)

    const anaAuthor = { id: ana.id, fullName: 'Ana Autora' }
    for (const path of [`/api/conversations/${conversationId}/messages`, `/api/admin/conversations/${conversationId}/messages`]) {
      const seen = await messagesOf(path.includes('admin') ? admin : beto.client, path)
      expect(seen.map(m => [m.role, m.content.startsWith('Pregunta') ? m.content : '…', m.author])).toEqual([
        ['user', 'Pregunta de Ana', anaAuthor],
        ['assistant', '…', undefined],
        ['user', 'Pregunta de Beto', undefined],
        ['assistant', '…', undefined],
      ])
    }
    const markdown = await beto.client.get(`/api/conversations/${conversationId}/export?format=md`)
    expect(markdown.status).toBe(200)
    expect(markdown.text).toMatch(/### Ana Autora · [^\n]+\n\nPregunta de Ana/)
    expect(markdown.text).toMatch(/### Tú · [^\n]+\n\nPregunta de Beto/)
    const json = await beto.client.get(`/api/conversations/${conversationId}/export?format=json`)
    expect(JSON.parse(json.text).messages[0]).toMatchObject({ content: 'Pregunta de Ana', author: anaAuthor })

    // back to Ana: her questions are hers again (no `author`), Beto's now say his name
    expect((await admin.patch(`/api/admin/conversations/${conversationId}/reassign`, { targetUserId: ana.id })).status).toBe(200)
    const back = await messagesOf(ana.client, `/api/conversations/${conversationId}/messages`)
    expect(back.filter(m => m.role === 'user').map(m => m.author)).toEqual([undefined, { id: beto.id, fullName: 'Beto Heredero' }])
  })

  it('the new owner cannot edit the previous owner\'s question (400 naming editMessageId), nothing changes; their own edit works', async () => {
    const ana = await person('Ana Edita')
    const beto = await person('Beto Edita')
    const conversationId = await askedBy(ana.client, 'Texto de Ana')
    expect((await admin.patch(`/api/admin/conversations/${conversationId}/reassign`, { targetUserId: beto.id })).status).toBe(200)
    const [anaQuestion] = await messagesOf(beto.client, `/api/conversations/${conversationId}/messages`)
    srv.fake.reset()
    const refused = await postChat(beto.client, { message: 'Texto cambiado por Beto', conversationId, editMessageId: anaQuestion!.id })
    expect(refused.status).toBe(400)
    expect(refused.json.message).toContain('editMessageId')
    expect(srv.fake.chatRequests.filter(r => !isTitleCall(r.body))).toHaveLength(0)
    const after = await messagesOf(beto.client, `/api/conversations/${conversationId}/messages`)
    expect(after.map(m => m.content)[0]).toBe('Texto de Ana')
    expect(after).toHaveLength(2)

    await askedBy(beto.client, 'Texto de Beto', conversationId)
    const mine = (await messagesOf(beto.client, `/api/conversations/${conversationId}/messages`))[2]!
    const edited = await postChat(beto.client, { message: 'Texto de Beto, corregido', conversationId, editMessageId: mine.id })
    expect(ending(edited)!.event).toBe('done')
    expect((await messagesOf(beto.client, `/api/conversations/${conversationId}/messages`)).map(m => m.content.startsWith('Texto') ? m.content : '…'))
      .toEqual(['Texto de Ana', '…', 'Texto de Beto, corregido', '…'])
  })

  it('a deleted writer\'s questions stay, with author null, in the conversation that moved away from them', async () => {
    const ana = await person('Ana Se Va')
    const beto = await person('Beto Se Queda')
    const moved = await askedBy(ana.client, 'Pregunta que se mudó')
    const inherited = await askedBy(ana.client, 'Pregunta heredada')
    expect((await admin.patch(`/api/admin/conversations/${moved}/reassign`, { targetUserId: beto.id })).status).toBe(200)
    // deleted with transferTo: the rest of Ana's conversations go to Beto, and her questions in them are not his
    expect((await admin.delete(`/api/admin/users/${ana.id}?transferTo=${beto.id}`)).status).toBe(204)
    for (const id of [moved, inherited]) {
      const [question] = await messagesOf(beto.client, `/api/conversations/${id}/messages`)
      expect(question).toMatchObject({ role: 'user', author: null })
      const reader = (await messagesOf(admin, `/api/admin/conversations/${id}/messages`))[0]!
      expect(reader.author).toBeNull()
    }
    const markdown = await beto.client.get(`/api/conversations/${inherited}/export?format=md`)
    expect(markdown.text).toMatch(/### Cuenta eliminada · [^\n]+\n\nPregunta heredada/)
  })
})
