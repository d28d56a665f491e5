import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ending, postChat, startChatServer, type ChatServer } from '../support/chat'
import { Client, newWorker } from '../support/http'

let srv: ChatServer
beforeAll(async () => { srv = await startChatServer() })
afterAll(async () => { await srv?.stop() })
beforeEach(() => { srv.fake.reset() })

const worker = () => newWorker(srv.url)
const messagesOf = async (client: Client, id: string) => (await client.get(`/api/conversations/${id}/messages`)).body.data as Array<{ id: string, role: string, content: string }>

/** A conversation with two complete exchanges. */
async function twoExchanges(client: Client) {
  const first = await postChat(client, { message: 'Primera pregunta' })
  const conversationId = first.events[0]!.data.conversationId as string
  expect(ending((await postChat(client, { message: 'Segunda pregunta', conversationId })))!.event).toBe('done')
  return { conversationId, saved: await messagesOf(client, conversationId) }
}

// issue 13.5: edit a sent message and resend it; the answer after it (and anything later) is replaced
describe('POST /api/chat with editMessageId', () => {
  it('editing the first question deletes everything after it and answers the new text with only the earlier history', async () => {
    const { client } = await worker()
    const { conversationId, saved } = await twoExchanges(client)
    expect(saved.map(m => m.role)).toEqual(['user', 'assistant', 'user', 'assistant'])
    srv.fake.reset().once({ tokens: ['Nueva', ' respuesta'] })
    const reply = await postChat(client, { message: 'Primera pregunta, corregida', conversationId, editMessageId: saved[0]!.id })
    expect(reply.status).toBe(200)
    expect(reply.events[0]!.data.userMessageId).toBe(saved[0]!.id)
    expect(ending(reply)!.event).toBe('done')
    expect(srv.fake.chatRequests[0]!.body.messages.filter((m: any) => m.role !== 'system')).toEqual([{ role: 'user', content: 'Primera pregunta, corregida' }])
    const after = await messagesOf(client, conversationId)
    expect(after.map(m => [m.role, m.content])).toEqual([['user', 'Primera pregunta, corregida'], ['assistant', 'Nueva respuesta']])
    expect(after[0]!.id).toBe(saved[0]!.id)
  })

  it('editing the last question keeps the first exchange and replaces only the last answer', async () => {
    const { client } = await worker()
    const { conversationId, saved } = await twoExchanges(client)
    srv.fake.reset().once({ tokens: ['Otra'] })
    const reply = await postChat(client, { message: 'Segunda, mejor dicha', conversationId, editMessageId: saved[2]!.id })
    expect(ending(reply)!.event).toBe('done')
    const context = srv.fake.chatRequests[0]!.body.messages.filter((m: any) => m.role !== 'system').map((m: any) => m.content)
    expect(context).toEqual(['Primera pregunta', saved[1]!.content, 'Segunda, mejor dicha'])
    const after = await messagesOf(client, conversationId)
    expect(after.map(m => m.id).slice(0, 3)).toEqual([saved[0]!.id, saved[1]!.id, saved[2]!.id])
    expect(after.map(m => m.content)).toEqual(['Primera pregunta', saved[1]!.content, 'Segunda, mejor dicha', 'Otra'])
  })

  it('bad input → 400 naming the field; ids outside the conversation (another user\'s included) → 404; nothing changes', async () => {
    const { client } = await worker()
    const { conversationId, saved } = await twoExchanges(client)
    const other = await worker()
    const theirs = await twoExchanges(other.client)
    const mine = await postChat(client, { message: 'Otra conversación mía' })
    const myOther = mine.events[0]!.data.userMessageId as string

    const cases: Array<[unknown, number, string]> = [
      [{ message: 'x', conversationId, editMessageId: 'not-an-id' }, 400, 'editMessageId'],
      [{ message: 'x', conversationId, editMessageId: 42 }, 400, 'editMessageId'],
      [{ message: 'x', editMessageId: saved[0]!.id }, 400, 'conversationId'],
      [{ conversationId, editMessageId: saved[0]!.id }, 400, 'message'],
      [{ message: '  ', conversationId, editMessageId: saved[0]!.id }, 400, 'message'],
      [{ message: 'x', conversationId, editMessageId: saved[0]!.id, regenerate: true }, 400, 'editMessageId'],
      [{ message: 'x', conversationId, editMessageId: saved[1]!.id }, 400, 'editMessageId'],
      [{ message: 'x', conversationId, editMessageId: randomUUID() }, 404, 'editMessageId'],
      [{ message: 'x', conversationId, editMessageId: theirs.saved[0]!.id }, 404, 'editMessageId'],
      [{ message: 'x', conversationId, editMessageId: myOther }, 404, 'editMessageId'],
      [{ message: 'x', conversationId: theirs.conversationId, editMessageId: theirs.saved[0]!.id }, 404, ''],
    ]
    for (const [body, status, field] of cases) {
      const reply = await postChat(client, body)
      expect(reply.status, JSON.stringify(body)).toBe(status)
      if (field) expect(reply.json.message, JSON.stringify(body)).toContain(field)
    }
    expect(await messagesOf(client, conversationId)).toEqual(saved)
    expect(await messagesOf(other.client, theirs.conversationId)).toEqual(theirs.saved)
  })

  it('model server down: the edit is saved and the later messages are gone (503), so "Generar respuesta" can answer it', async () => {
    // the project's shared server points at a closed port: every turn there is a 503
    const { client } = await newWorker()
    const first = await postChat(client, { message: 'Pregunta original' })
    expect(first.status).toBe(503)
    const { conversationId, userMessageId } = first.json.data
    const edited = await postChat(client, { message: 'Pregunta editada', conversationId, editMessageId: userMessageId })
    expect(edited.status).toBe(503)
    expect(edited.json.data.userMessageId).toBe(userMessageId)
    expect((await messagesOf(client, conversationId)).map(m => [m.id, m.content])).toEqual([[userMessageId, 'Pregunta editada']])
  })
})
