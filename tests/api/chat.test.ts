import { randomUUID } from 'node:crypto'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type ChatServer, eventually, ending, postChat, startChatServer } from '../support/chat'
import { dbQuery } from '../support/db'
import { DEFAULT_TOKENS, FakeOllama } from '../support/fake-ollama'
import { Client, DEMO, newWorker } from '../support/http'
import { LiveReader } from './live-reader'

let srv: ChatServer
beforeAll(async () => { srv = await startChatServer({ CHAT_PING_MS: '100' }) })
afterAll(async () => { await srv?.stop() })
beforeEach(() => { srv.fake.reset() })

const worker = () => newWorker(srv.url)
const messagesOf = async (client: Client, conversationId: string) => (await client.get(`/api/conversations/${conversationId}/messages`)).body
const names = (events: Array<{ event: string }>) => events.map(e => e.event).filter((name, i, all) => name !== 'token' || all[i - 1] !== 'token')

/** A conversation with one complete exchange. */
async function conversationWithAnswer(client: Client, message = 'Hola') {
  const reply = await postChat(client, { message })
  expect(reply.status).toBe(200)
  return reply.events[0]!.data.conversationId as string
}

describe('POST /api/chat streaming', () => {
  it('streams meta, tokens, done, then title, and saves exactly the concatenated tokens', async () => {
    const { client } = await worker()
    const tokens = ['Hola', ' ', 'mundo', '… ', '<script>alert(1)</script>', '\n\n```js\nx\n```', ' ñandú']
    srv.fake.once({ tokens })
    const reply = await postChat(client, { message: '¿Qué tal?' })
    expect(reply.status).toBe(200)
    expect(reply.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expect(names(reply.events)).toEqual(['meta', 'token', 'done', 'title'])
    expect(reply.events.filter(e => e.event === 'token')).toHaveLength(tokens.length)
    expect(reply.tokens).toBe(tokens.join(''))

    const meta = reply.events[0]!.data
    expect(meta).toEqual({ conversationId: expect.any(String), userMessageId: expect.any(String), model: 'qwen2.5:3b-instruct' })
    const done = ending(reply)!.data
    expect(done).toMatchObject({ assistantMessageId: expect.any(String), finishReason: 'stop', usage: { promptTokens: expect.any(Number), completionTokens: tokens.length } })
    expect(done.usage.promptTokens).toBeGreaterThan(0)
    expect(done.durationMs).toBeGreaterThanOrEqual(0)

    const saved = await messagesOf(client, meta.conversationId)
    expect(saved.total).toBe(2)
    expect(saved.data.map((m: any) => [m.role, m.status])).toEqual([['user', 'complete'], ['assistant', 'complete']])
    expect(saved.data[0]).toMatchObject({ id: meta.userMessageId, content: '¿Qué tal?' })
    expect(saved.data[1]).toMatchObject({ id: done.assistantMessageId, content: tokens.join(''), model: 'qwen2.5:3b-instruct', usage: done.usage })
  })

  it('sends the system prompt and the message to the model with the admin settings, then asks for a short title', async () => {
    const { client } = await worker()
    const reply = await postChat(client, { message: 'Necesito un resumen' })
    const [answerCall, titleCall] = srv.fake.chatRequests
    expect(answerCall!.body.messages[0]).toMatchObject({ role: 'system', content: expect.stringContaining('español') })
    expect(answerCall!.body.messages.at(-1)).toEqual({ role: 'user', content: 'Necesito un resumen' })
    expect(answerCall!.body).toMatchObject({ model: 'qwen2.5:3b-instruct', stream: true, options: { num_ctx: 4096, temperature: 0.7, top_p: 0.9 } })
    expect(titleCall!.body.options.num_predict).toBeLessThanOrEqual(32)

    // the title call answered the default tokens: "Hola, soy un modelo de prueba."
    const title = reply.events.find(e => e.event === 'title')!.data.title
    expect(title).toBe('Hola, soy un modelo de prueba')
    const conversation = (await client.get(`/api/conversations/${reply.events[0]!.data.conversationId}`)).body
    expect(conversation).toMatchObject({ title, messageCount: 2 })
  })

  it('a follow-up sends the history as context, bumps updatedAt and has no title event', async () => {
    const { client } = await worker()
    const conversationId = await conversationWithAnswer(client, 'Primera pregunta')
    const before = (await client.get(`/api/conversations/${conversationId}`)).body
    srv.fake.reset()
    const reply = await postChat(client, { message: 'Segunda pregunta', conversationId })
    expect(names(reply.events)).toEqual(['meta', 'token', 'done'])
    expect(srv.fake.chatRequests).toHaveLength(1)
    expect(srv.fake.chatRequests[0]!.body.messages.slice(1)).toEqual([
      { role: 'user', content: 'Primera pregunta' },
      { role: 'assistant', content: DEFAULT_TOKENS.join('') },
      { role: 'user', content: 'Segunda pregunta' },
    ])
    const after = (await client.get(`/api/conversations/${conversationId}`)).body
    expect(after.messageCount).toBe(4)
    expect(after.title).toBe(before.title)
    expect(new Date(after.updatedAt).getTime()).toBeGreaterThan(new Date(before.updatedAt).getTime())
  })

  it('only a first exchange is titled: a conversation its owner renamed to the placeholder text keeps that name', async () => {
    const { client } = await worker()
    // created empty through the API (placeholder title): its first exchange still names it
    const created = await client.post('/api/conversations', {})
    expect(created.body.title).toBe('Nueva conversación')
    const first = await postChat(client, { message: 'Primera pregunta', conversationId: created.body.id })
    expect(names(first.events)).toEqual(['meta', 'token', 'done', 'title'])
    expect((await client.get(`/api/conversations/${created.body.id}`)).body.title).toBe('Hola, soy un modelo de prueba')

    // renamed by its owner to the very text of the placeholder: a chosen name, not an unnamed conversation
    expect((await client.patch(`/api/conversations/${created.body.id}`, { title: 'Nueva conversación' })).status).toBe(200)
    srv.fake.reset()
    const next = await postChat(client, { message: 'Segunda pregunta', conversationId: created.body.id })
    expect(names(next.events)).toEqual(['meta', 'token', 'done'])
    // no title call went to the model, and the name stays
    expect(srv.fake.chatRequests).toHaveLength(1)
    expect((await client.get(`/api/conversations/${created.body.id}`)).body.title).toBe('Nueva conversación')
  })
  it('a system prompt an admin has just created can be picked at once and is what the model gets', async () => {
    const admin = new Client(srv.url)
    await admin.login(DEMO.admin.email, DEMO.admin.password)
    const created = await admin.post('/api/admin/system-prompts', { name: `Pirata ${randomUUID()}`, content: 'Responde como un pirata.', isDefault: false })
    expect(created.status).toBe(201)
    const { client } = await worker()
    const reply = await postChat(client, { message: 'Hola', systemPromptId: created.body.id })
    expect(reply.status).toBe(200)
    expect(srv.fake.chatRequests[0]!.body.messages[0]).toEqual({ role: 'system', content: 'Responde como un pirata.' })
    const conversation = (await client.get(`/api/conversations/${reply.events[0]!.data.conversationId}`)).body
    expect(conversation.systemPromptId).toBe(created.body.id)
    // later messages keep the conversation's prompt
    srv.fake.reset()
    await postChat(client, { message: 'Sigue', conversationId: conversation.id })
    expect(srv.fake.chatRequests[0]!.body.messages[0].content).toBe('Responde como un pirata.')
  })

  it('system prompts are read from a copy: a change by another process shows within its 5 s lifetime, not on every chat', { timeout: 60_000 }, async () => {
    const admin = new Client(srv.url)
    await admin.login(DEMO.admin.email, DEMO.admin.password)
    const created = await admin.post('/api/admin/system-prompts', { name: `Copia ${randomUUID()}`, content: 'Versión uno.', isDefault: false })
    expect(created.status).toBe(201)
    const { client } = await worker()
    const systemOf = async () => {
      srv.fake.reset()
      expect((await postChat(client, { message: 'Hola', systemPromptId: created.body.id })).status).toBe(200)
      return srv.fake.chatRequests[0]!.body.messages[0].content as string
    }
    const copied = performance.now()
    expect(await systemOf()).toBe('Versión uno.')
    // written straight to the database, as another app process would: this process still answers from its copy
    await dbQuery('update system_prompts set content = ? where id = ?', ['Versión dos.', created.body.id], srv.db.url)
    const second = await systemOf()
    // (a machine so slow that the copy expired meanwhile proves nothing either way)
    if (performance.now() - copied < 4_000) expect(second).toBe('Versión uno.')
    // … until the copy expires
    await eventually(async () => (await systemOf()) === 'Versión dos.', 15_000)
  })

  it('the model a user picks is used and remembered on the conversation', async () => {
    const { client } = await worker()
    const reply = await postChat(client, { message: 'Hola', model: 'llama3.2:1b' })
    expect(reply.events[0]!.data.model).toBe('llama3.2:1b')
    expect(srv.fake.chatRequests[0]!.body.model).toBe('llama3.2:1b')
    const conversation = (await client.get(`/api/conversations/${reply.events[0]!.data.conversationId}`)).body
    expect(conversation.model).toBe('llama3.2:1b')
  })
})

describe('POST /api/chat when things go wrong', () => {
  it('client disconnect mid-stream: the fake sees the abort and the partial answer is saved as stopped', async () => {
    const { client } = await worker()
    // the owner's other tab (live events) learns the title the server gives after this client left
    const live = await LiveReader.open(client)
    srv.fake.once({ tokenCount: 500, delayMs: 10 })
    const reply = await postChat(client, { message: 'Cuéntame algo largo' }, { disconnectAfterTokens: 3 })
    expect(reply.tokens.length).toBeGreaterThan(0)
    await srv.fake.waitFor(requests => requests.some(r => r.path === '/api/chat' && r.aborted))
    const conversationId = reply.events[0]!.data.conversationId
    const answer = await eventually(async () => (await messagesOf(client, conversationId)).data.find((m: any) => m.role === 'assistant'))
    expect(answer.status).toBe('stopped')
    expect(answer.content.startsWith(reply.tokens)).toBe(true)
    expect(answer.content).toBe(Array.from({ length: srv.fake.chatRequests[0]!.tokensSent }, (_, i) => `tok${i} `).join('').slice(0, answer.content.length))
    expect(srv.fake.chatRequests[0]!.tokensSent).toBeLessThan(500)
    // no title call for a stopped answer: the first words of the message name it
    expect(srv.fake.chatRequests).toHaveLength(1)
    // (named just after the stopped answer is saved)
    await expect.poll(async () => (await client.get(`/api/conversations/${conversationId}`)).body.title).toBe('Cuéntame algo largo')
    await expect.poll(() => live.named('conversation')).toEqual([{ id: conversationId, title: 'Cuéntame algo largo' }])
    await live.close()
  })

  it('connection dropped mid-stream: error event (no done) and the partial text saved as error', async () => {
    const { client } = await worker()
    srv.fake.once({ dropAfter: 3 })
    const reply = await postChat(client, { message: 'Hola' })
    expect(reply.status).toBe(200)
    expect(names(reply.events)).toEqual(['meta', 'token', 'error', 'title'])
    expect(reply.tokens).toBe(DEFAULT_TOKENS.slice(0, 3).join(''))
    const error = ending(reply)!.data
    expect(error.message).toEqual(expect.any(String))
    const saved = await messagesOf(client, reply.events[0]!.data.conversationId)
    expect(saved.data[1]).toMatchObject({ id: error.assistantMessageId, role: 'assistant', status: 'error', content: reply.tokens })
  })

  it('an {error} line from the model mid-stream is an error event too', async () => {
    const { client } = await worker()
    const conversationId = await conversationWithAnswer(client)
    srv.fake.once({ errorAfter: 2, errorMessage: 'CUDA out of memory' })
    const reply = await postChat(client, { message: 'Otra', conversationId })
    expect(names(reply.events)).toEqual(['meta', 'token', 'error'])
    expect(ending(reply)!.data.message).toContain('CUDA out of memory')
    const saved = await messagesOf(client, conversationId)
    expect(saved.data.at(-1)).toMatchObject({ status: 'error', content: DEFAULT_TOKENS.slice(0, 2).join('') })
  })

  it('model server error before the first token: 503 JSON, the message is kept, regenerate answers it later', async () => {
    const { client } = await worker()
    srv.fake.once({ errorStatus: 500, errorMessage: 'out of memory' })
    const failed = await postChat(client, { message: 'Pregunta importante' })
    expect(failed.status).toBe(503)
    expect(failed.json).toMatchObject({ statusCode: 503, data: { conversationId: expect.any(String), userMessageId: expect.any(String) } })
    const { conversationId, userMessageId } = failed.json.data
    expect((await messagesOf(client, conversationId)).data).toEqual([expect.objectContaining({ id: userMessageId, role: 'user', content: 'Pregunta importante' })])

    const retry = await postChat(client, { conversationId, regenerate: true })
    expect(retry.events[0]!.data.userMessageId).toBe(userMessageId)
    expect(ending(retry)!.event).toBe('done')
    const saved = await messagesOf(client, conversationId)
    expect(saved.data.map((m: any) => m.role)).toEqual(['user', 'assistant'])
  })

  it('a model that hangs before its first token: meta and pings keep the stream alive; a disconnect aborts the model request', async () => {
    const { client } = await worker()
    srv.fake.once({ hang: true })
    const reply = await postChat(client, { message: 'Hola' }, { disconnectWhen: r => r.comments.includes('ping') })
    expect(reply.status).toBe(200)
    expect(names(reply.events)).toEqual(['meta'])
    expect(reply.comments).toContain('ping')
    await srv.fake.waitFor(requests => requests.some(r => r.path === '/api/chat' && r.aborted))
    const conversationId = reply.events[0]!.data.conversationId
    const answer = await eventually(async () => (await messagesOf(client, conversationId)).data.find((m: any) => m.role === 'assistant'))
    expect(answer).toMatchObject({ status: 'stopped', content: '' })
  })

  it('Ollama stops while its model list is still cached: 503 ollama-down, the message kept', async () => {
    const { client } = await worker()
    expect((await postChat(client, { message: 'calentar la caché' })).status).toBe(200)
    const port = Number(new URL(srv.fake.url).port)
    await srv.fake.close()
    try {
      const reply = await postChat(client, { message: 'Ollama se cayó' })
      expect(reply.status).toBe(503)
      expect(reply.json.data.reason).toBe('ollama-down')
      const saved = await messagesOf(client, reply.json.data.conversationId)
      expect(saved.data.map((m: any) => m.content)).toEqual(['Ollama se cayó'])
    }
    finally {
      srv.fake = await new FakeOllama({ port }).start()
    }
  })

  it('Ollama unreachable: 503 and the user message is saved; sending the same text again does not duplicate it', async () => {
    // the project's shared server points at a closed port
    const { client } = await newWorker()
    const first = await postChat(client, { message: 'Hola, ¿estás?' })
    expect(first.status).toBe(503)
    expect(first.json.message).toMatch(/model server/i)
    const { conversationId } = first.json.data
    const again = await postChat(client, { message: 'Hola, ¿estás?', conversationId })
    expect(again.status).toBe(503)
    const saved = await messagesOf(client, conversationId)
    expect(saved.total).toBe(1)
    expect(saved.data[0]).toMatchObject({ role: 'user', content: 'Hola, ¿estás?', status: 'complete' })
  })
})

describe('POST /api/chat regenerate, concurrency and validation', () => {
  it('regenerate replaces the last answer and re-answers the same user message', async () => {
    const { client } = await worker()
    const conversationId = await conversationWithAnswer(client, 'Dame una idea')
    const before = await messagesOf(client, conversationId)
    srv.fake.reset().once({ tokens: ['Otra', ' idea'] })
    const reply = await postChat(client, { conversationId, regenerate: true })
    expect(reply.events[0]!.data.userMessageId).toBe(before.data[0].id)
    expect(reply.tokens).toBe('Otra idea')
    // the old answer is not in the context of the new one
    expect(srv.fake.chatRequests[0]!.body.messages.slice(1)).toEqual([{ role: 'user', content: 'Dame una idea' }])
    const after = await messagesOf(client, conversationId)
    expect(after.total).toBe(2)
    expect(after.data[1]).toMatchObject({ role: 'assistant', content: 'Otra idea', id: ending(reply)!.data.assistantMessageId })
    expect(after.data[1].id).not.toBe(before.data[1].id)
  })

  it('a second request from the same user while one is generating → 429 with Retry-After', async () => {
    const { client } = await worker()
    srv.fake.once({ tokenCount: 30, delayMs: 20 })
    const first = postChat(client, { message: 'Larga' })
    await srv.fake.waitFor(requests => requests.some(r => r.path === '/api/chat'))
    const second = await postChat(client, { message: 'Otra a la vez' })
    expect(second.status).toBe(429)
    expect(Number(second.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(ending((await first))!.event).toBe('done')
  })

  it('bad input is a 400 naming the field (never a 500) and saves nothing', async () => {
    const { client, user } = await worker()
    const cases: Array<[unknown, string]> = [
      ['not json', 'body'],
      [{}, 'message'],
      [{ message: '' }, 'message'],
      [{ message: '   ' }, 'message'],
      [{ message: 42 }, 'message'],
      [{ message: 'x'.repeat(8001) }, 'message'],
      [{ message: 'hola', extra: true }, 'extra'],
      [{ message: 'hola', conversationId: 'not-an-id' }, 'conversationId'],
      [{ message: 'hola', model: 'no-such-model:7b' }, 'model'],
      [{ message: 'hola', model: '' }, 'model'],
      [{ message: 'hola', systemPromptId: randomUUID() }, 'systemPromptId'],
      [{ message: 'hola', regenerate: 'yes' }, 'regenerate'],
      [{ regenerate: true }, 'conversationId'],
    ]
    for (const [body, field] of cases) {
      const reply = await postChat(client, body)
      expect(reply.status, JSON.stringify(body).slice(0, 60)).toBe(400)
      expect(reply.json.message, JSON.stringify(body).slice(0, 60)).toMatch(new RegExp(`^${field}\\b`))
    }
    expect((await client.get('/api/conversations')).body.total).toBe(0)
    expect(srv.fake.chatRequests).toHaveLength(0)
    expect(user.role).toBe('worker')
  })

  it('regenerate in a conversation with no message to answer is a 400', async () => {
    const { client } = await worker()
    const created = await client.post('/api/conversations', {})
    const reply = await postChat(client, { conversationId: created.body.id, regenerate: true })
    expect(reply.status).toBe(400)
    expect(reply.json.message).toMatch(/^regenerate/)
  })

  it('nobody but the owner writes into a conversation: another worker → 404, an admin → 403', async () => {
    const owner = await worker()
    const conversationId = await conversationWithAnswer(owner.client)
    srv.fake.reset()
    const other = await worker()
    expect((await postChat(other.client, { message: 'intruso', conversationId })).status).toBe(404)
    expect((await postChat(other.client, { conversationId, regenerate: true })).status).toBe(404)
    const admin = new Client(srv.url)
    await admin.login(DEMO.admin.email, DEMO.admin.password)
    expect((await postChat(admin, { message: 'intruso', conversationId })).status).toBe(403)
    expect(srv.fake.chatRequests).toHaveLength(0)
    expect((await messagesOf(owner.client, conversationId)).total).toBe(2)
  })

  it('an unknown conversation id → 404; signed out → 401', async () => {
    const { client } = await worker()
    expect((await postChat(client, { message: 'hola', conversationId: randomUUID() })).status).toBe(404)
    expect((await postChat(new Client(srv.url), { message: 'hola' })).status).toBe(401)
  })
})
