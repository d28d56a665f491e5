import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ChatServer, postChat, startChatServer } from '../support/chat'
import { newWorker } from '../support/http'

/** Preferences that reach the model: the default model of new conversations and the custom instructions. */

let srv: ChatServer
beforeAll(async () => { srv = await startChatServer() }, 120_000)
afterAll(async () => { await srv?.stop() })

describe('preferences in the chat', () => {
  it('custom instructions are appended to the system prompt; the preferred model starts new conversations', async () => {
    const { client } = await newWorker(srv.url)
    const saved = await client.put('/api/auth/me', { preferences: { defaultModel: 'llama3.2:1b', customInstructions: 'Firma siempre como Ana.' } })
    expect(saved.status).toBe(200)
    srv.fake.reset()
    const reply = await postChat(client, { message: 'Hola' })
    expect(reply.status).toBe(200)
    expect(reply.events[0]!.data.model).toBe('llama3.2:1b')
    const answer = srv.fake.chatRequests.find(r => r.body.messages.at(-1)?.content === 'Hola')!
    expect(answer.body.model).toBe('llama3.2:1b')
    const system = answer.body.messages[0]
    expect(system.role).toBe('system')
    expect(system.content).toMatch(/\n\nFirma siempre como Ana\.$/)
    expect(system.content.length).toBeGreaterThan('Firma siempre como Ana.'.length + 2)
  })

  it('a preferred model the model server does not have is ignored (the admin default is used)', async () => {
    const { client } = await newWorker(srv.url)
    await client.put('/api/auth/me', { preferences: { defaultModel: 'no-such-model:7b' } })
    const reply = await postChat(client, { message: 'Hola' })
    expect(reply.status).toBe(200)
    expect(reply.events[0]!.data.model).toBe('qwen2.5:3b-instruct')
  })
})
