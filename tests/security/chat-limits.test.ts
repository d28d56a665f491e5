import { request } from 'node:http'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type ChatServer, eventually, ending, postChat, type SseEvent, startChatServer } from '../support/chat'
import { Client, DEMO, newWorker } from '../support/http'

// Issue #15 items 4, 6 and 14: caps on a running answer, a save that fails, a conversation moved mid-stream.
let srv: ChatServer
let admin: Client
beforeAll(async () => {
  srv = await startChatServer({ CHAT_DRAIN_TIMEOUT_MS: '1500', CHAT_WATCH_MS: '250' })
  admin = new Client(srv.url)
  await admin.login(DEMO.admin.email, DEMO.admin.password)
})
afterAll(async () => { await srv?.stop() })
beforeEach(() => { srv.fake.reset() })

const lastAssistant = async (client: Client, conversationId: string) =>
  (await client.get(`/api/conversations/${conversationId}/messages`)).body.data.filter((m: { role: string }) => m.role === 'assistant').at(-1)

/** A chat with a slow endless answer; `onFirstToken` runs once the first token has arrived. */
async function slowChat(client: Client, onFirstToken: (conversationId: string) => Promise<unknown>) {
  srv.fake.once({ tokenCount: 5000, delayMs: 20 })
  let conversationId = ''
  let acted: Promise<unknown> | undefined
  let actedAt = 0
  const reply = await postChat(client, { message: 'Cuéntame todo' }, {
    onEvent: (event: SseEvent) => {
      if (event.event === 'meta') conversationId = event.data.conversationId
      if (event.event === 'token' && !acted) { actedAt = Date.now(); acted = onFirstToken(conversationId) }
    },
  })
  await acted
  return { reply, conversationId, tookMs: Date.now() - actedAt }
}

describe('answer caps (admin settings)', () => {
  it('maxAnswerTokens is sent to the model as num_predict', async () => {
    expect((await admin.put('/api/admin/settings', { maxAnswerTokens: 64 })).status).toBe(200)
    const { client } = await newWorker(srv.url)
    expect((await postChat(client, { message: 'Hola' })).status).toBe(200)
    expect(srv.fake.chatRequests[0]!.body.options.num_predict).toBe(64)
  })

  it('maxAnswerSeconds stops a runaway answer: done with finishReason time-limit, saved as stopped', async () => {
    expect((await admin.put('/api/admin/settings', { maxAnswerSeconds: 1 })).status).toBe(200)
    try {
      const { client } = await newWorker(srv.url)
      srv.fake.once({ tokenCount: 5000, delayMs: 20 })
      const started = Date.now()
      const reply = await postChat(client, { message: 'Repite hola para siempre' })
      expect(Date.now() - started).toBeLessThan(6000)
      const done = ending(reply)!
      expect(done.event).toBe('done')
      expect(done.data.finishReason).toBe('time-limit')
      // the model call is aborted by the server; the fake sees its socket close a moment after the client reads `done`
      await expect.poll(() => srv.fake.chatRequests[0]!.aborted).toBe(true)
      const saved = await lastAssistant(client, reply.events[0]!.data.conversationId)
      expect(saved).toMatchObject({ id: done.data.assistantMessageId, status: 'stopped', content: reply.tokens })
      expect(reply.tokens.length).toBeGreaterThan(0)
    }
    finally { await admin.put('/api/admin/settings', { maxAnswerSeconds: 600 }) }
  })
})

describe('a running answer stops at once when its right to run ends', () => {
  it('the user is deactivated → error event within seconds, the model call aborted, the text saved as stopped', async () => {
    const worker = await newWorker(srv.url)
    const { reply, conversationId, tookMs } = await slowChat(worker.client, () => admin.patch(`/api/admin/users/${worker.user.id}`, { active: false }))
    expect(tookMs).toBeLessThan(4000)
    expect(ending(reply)!.event).toBe('error')
    await expect.poll(() => srv.fake.chatRequests[0]!.aborted).toBe(true)
    await admin.patch(`/api/admin/users/${worker.user.id}`, { active: true })
    const again = new Client(srv.url)
    await again.login(worker.email, worker.password)
    const saved = await eventually(() => lastAssistant(again, conversationId))
    expect(saved).toMatchObject({ status: 'stopped', content: reply.tokens })
  })

  it('the session is revoked (sign out everywhere from another device) → the answer stops', async () => {
    const worker = await newWorker(srv.url)
    const other = new Client(srv.url)
    await other.login(worker.email, worker.password)
    const { reply, conversationId, tookMs } = await slowChat(worker.client, () => other.post('/api/auth/logout-all'))
    expect(tookMs).toBeLessThan(4000)
    expect(ending(reply)).toMatchObject({ event: 'error', data: { message: expect.stringMatching(/session/i) } })
    const again = new Client(srv.url)
    await again.login(worker.email, worker.password)
    expect(await eventually(() => lastAssistant(again, conversationId))).toMatchObject({ status: 'stopped', content: reply.tokens })
  })

  it('a client that stops reading loses its slot after the back-pressure timeout; the answer is saved as stopped', async () => {
    await admin.put('/api/admin/settings', { maxConcurrentGenerations: 1 })
    const worker = await newWorker(srv.url)
    // 3000 events of 8 KB (24 MB): far more than the sockets on both sides hold (about 4 MB each here) and the parts
    // read ahead while the question commits (server/services/orchestrator/hold.ts), so the model is still writing
    srv.fake.once({ tokens: Array.from({ length: 3000 }, (_, i) => `${i} ${'x'.repeat(8000)}`) })
    const body = JSON.stringify({ message: 'Un texto enorme' })
    const stuck = request(`${srv.url}/api/chat`, { method: 'POST', headers: { 'content-type': 'application/json', 'cookie': [...worker.client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') } })
    const response = new Promise<import('node:http').IncomingMessage>(resolve => stuck.on('response', (res) => { res.pause(); resolve(res) }))
    stuck.on('error', () => {})
    stuck.end(body)
    try {
      const res = await response
      expect(res.statusCode).toBe(200)
      await srv.fake.waitFor(requests => requests.some(r => r.path === '/api/chat' && r.aborted), 15_000)
      const list = await worker.client.get('/api/conversations')
      const saved = await eventually(() => lastAssistant(worker.client, list.body.data[0].id))
      expect(saved.status).toBe('stopped')
      // the slot is free: someone else gets an answer at once, not a queue position
      const { client } = await newWorker(srv.url)
      const next = await postChat(client, { message: 'Hola' })
      expect(next.events.map(e => e.event)).not.toContain('queue')
      expect(ending(next)!.event).toBe('done')
    }
    finally { stuck.destroy() }
  })
})

describe('the end of a stream is always `done` or `error`', () => {
  it('the conversation deleted mid-stream → error saying the answer was not saved', async () => {
    const { client } = await newWorker(srv.url)
    const { reply } = await slowChat(client, id => client.delete(`/api/conversations/${id}`))
    expect(ending(reply)).toMatchObject({ event: 'error', data: { message: expect.stringMatching(/not be saved/) } })
  })
})

// Decided: a reassigned conversation stops the answer being generated for its previous owner at once (only the
// owner writes into a conversation); what was generated is saved in the conversation as `stopped`, since it
// answers a question that moved with it; the previous owner's stream ends with an `error` saying why.
describe('a conversation reassigned while an answer streams', () => {
  it('the answer stops, is saved as stopped in the conversation (now the new owner\'s), and the stream ends with error', async () => {
    const from = await newWorker(srv.url)
    const to = await newWorker(srv.url)
    const { reply, conversationId, tookMs } = await slowChat(from.client, id => admin.patch(`/api/admin/conversations/${id}/reassign`, { targetUserId: to.user.id }))
    expect(tookMs).toBeLessThan(4000)
    expect(ending(reply)).toMatchObject({ event: 'error', data: { message: expect.stringMatching(/reassigned/) } })
    // the model request's socket closes just after the stream's last event: wait for the fake to see it
    await expect.poll(() => srv.fake.chatRequests[0]!.aborted).toBe(true)
    const saved = await eventually(() => lastAssistant(to.client, conversationId))
    expect(saved).toMatchObject({ status: 'stopped', content: reply.tokens })
    expect((await from.client.get(`/api/conversations/${conversationId}`)).status).toBe(404)
  })
})
