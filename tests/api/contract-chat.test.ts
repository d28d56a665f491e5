import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type ChatServer, eventually, postChat, startChatServer } from '../support/chat'
import { newWorker } from '../support/http'

// Edges of API.md "Chat" and docs/api.md "Chat" found by probing the built server.

let srv: ChatServer
beforeAll(async () => { srv = await startChatServer({ CHAT_PING_MS: '100' }) })
afterAll(async () => { await srv?.stop() })
beforeEach(() => { srv.fake.reset() })

describe('the title of a stopped first answer', () => {
  it('POST /api/chat/:id/stop on a first exchange: done (finishReason stopped), then title, then the stream ends', async () => {
    const { client } = await newWorker(srv.url)
    const { gate, open } = srv.fake.gate()
    srv.fake.once({ tokens: ['Uno', ' dos', ' tres', ' cuatro'], gate, gateAfter: 2 })
    let conversationId = ''
    const replying = postChat(client, { message: 'Una pregunta larga' }, {
      onEvent: (e) => { if (e.event === 'meta') conversationId = e.data.conversationId },
    })
    await eventually(async () => srv.fake.chatRequests.length > 0 && conversationId)
    // two tokens are out and the model waits at the gate: the answer is certainly still running
    await new Promise(resolve => setTimeout(resolve, 300))
    expect((await client.post(`/api/chat/${conversationId}/stop`)).status).toBe(204)
    const reply = await replying
    open()
    const names = reply.events.map(e => e.event).filter(name => name !== 'token')
    expect(names).toEqual(['meta', 'done', 'title'])
    const done = reply.events.find(e => e.event === 'done')!.data
    expect(done).toMatchObject({ assistantMessageId: expect.any(String), finishReason: 'stopped' })
    expect(reply.events.at(-1)!.data).toEqual({ title: expect.any(String) })
    const saved = (await client.get(`/api/conversations/${conversationId}/messages`)).body.data
    expect(saved.at(-1)).toMatchObject({ id: done.assistantMessageId, role: 'assistant', status: 'stopped', content: reply.tokens })
  })
})
