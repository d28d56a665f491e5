import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ChatServer, postChat, startChatServer } from '../support/chat'
import { newWorker } from '../support/http'

let srv: ChatServer
beforeAll(async () => { srv = await startChatServer() })
afterAll(async () => { await srv?.stop() })

describe('sending again as soon as an answer is done', () => {
  it('a message sent on the `done` event is answered, not refused as busy (429)', async () => {
    const { client } = await newWorker(srv.url)
    let next: ReturnType<typeof postChat> | undefined
    let conversation = ''
    const first = await postChat(client, { message: 'Primera pregunta' }, {
      onEvent: (e) => {
        if (e.event === 'meta') conversation = e.data.conversationId
        if (e.event === 'done' && !next) next = postChat(client, { message: 'Segunda, enseguida', conversationId: conversation })
      },
    })
    expect(first.events.map(e => e.event)).toContain('done')
    const conversationId = first.events[0]!.data.conversationId
    expect(next).toBeDefined()
    const second = await next!
    expect(second.status).toBe(200)
    expect(second.events.map(e => e.event)).toContain('done')
    const messages = (await client.get(`/api/conversations/${conversationId}/messages`)).body.data
    expect(messages.map((m: any) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant'])
  })
})
