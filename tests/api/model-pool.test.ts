import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { ending, eventually, postChat } from '../support/chat'
import { FakeOllama, lastMessageOf } from '../support/fake-ollama'
import { FakeOpenAi, openAiToolResultsOf } from '../support/fake-openai'
import { Client, DEMO, newWorker } from '../support/http'
import { createTestDatabase, type RunningServer, startServer, type TestDatabase } from '../support/server'

// The model layer (issue #14): an OpenAI-compatible server through the web chat, and a pool of two fake Ollamas
// (load spread, failover before the first token, down and back), with the model lists served from a cache.

const isTitleCall = (body: any) => String(body?.messages?.[0]?.content ?? '').includes('título breve')
const messagesOf = async (client: Client, id: string) => (await client.get(`/api/conversations/${id}/messages`)).body
const names = (events: Array<{ event: string }>) => events.map(e => e.event)

async function appWith(env: Record<string, string>) {
  const db = await createTestDatabase(inject('dbKind'))
  const server = await startServer({ DATABASE_URL: db.url, CHAT_RATE_LIMIT: '10000/1m', MAX_CONCURRENT_GENERATIONS: '16', ...env })
  const admin = new Client(server.url)
  await admin.login(DEMO.admin.email, DEMO.admin.password)
  return { db, server, admin }
}

describe('an OpenAI-compatible server (openai+ entry, with OPENAI_API_KEY)', () => {
  let fake: FakeOpenAi
  let app: { db: TestDatabase, server: RunningServer, admin: Client }
  beforeAll(async () => {
    fake = await new FakeOpenAi({ apiKey: 'sk-pool-test' }).start()
    // a long check interval: every model-list request below is one the app asked for on its own
    app = await appWith({ OLLAMA_HOSTS: `openai+${fake.url}`, OPENAI_API_KEY: 'sk-pool-test', MODEL_CHECK_MS: '600000' })
  })
  afterAll(async () => {
    await app?.server.stop()
    await fake?.close()
    await app?.db.drop()
  })

  it('streams tokens, usage and done; /api/models lists /v1/models; the key is sent', async () => {
    const { client } = await newWorker(app.server.url)
    const models = await client.get('/api/models')
    expect(models.body.data).toEqual([
      { name: 'qwen2.5:3b-instruct', size: 0, family: null, parameterSize: null },
      { name: 'llama3.2:1b', size: 0, family: null, parameterSize: null },
    ])
    const reply = await postChat(client, { message: 'Hola por OpenAI' })
    expect(reply.status).toBe(200)
    expect(reply.tokens).toBe('Hola, soy un modelo de prueba.')
    const done = reply.events.find(e => e.event === 'done')!
    expect(done.data).toMatchObject({ finishReason: 'stop', usage: { completionTokens: 8, promptTokens: expect.any(Number) } })
    expect(done.data.usage.promptTokens).toBeGreaterThan(0)
    const answer = fake.chatRequests.find(r => !isTitleCall(r.body))!
    expect(answer.body).toMatchObject({ model: 'qwen2.5:3b-instruct', stream: true, stream_options: { include_usage: true }, messages: expect.arrayContaining([{ role: 'user', content: 'Hola por OpenAI' }]) })
    expect(fake.unauthorized).toBe(0)
    const saved = await eventually(async () => (await messagesOf(client, reply.events[0]!.data.conversationId)).data.find((m: any) => m.role === 'assistant'))
    expect(saved).toMatchObject({ status: 'complete', content: 'Hola, soy un modelo de prueba.', usage: { completionTokens: 8 } })
  })

  it('the model list comes from the cache: five chats ask /v1/models nothing; a missing model refreshes it once', async () => {
    const { client } = await newWorker(app.server.url)
    await client.get('/api/models')
    const before = fake.listRequests.length
    for (let i = 0; i < 5; i++) expect((await postChat(client, { message: `pregunta ${i}` })).status).toBe(200)
    expect(fake.listRequests.length).toBe(before)
    // a model installed after the last check: the first chat naming it refreshes the list and is answered
    fake.models = [...fake.models, { name: 'nuevo:1b' }]
    const reply = await postChat(client, { message: 'con el modelo nuevo', model: 'nuevo:1b' })
    expect(reply.status).toBe(200)
    expect(ending(reply)!.event).toBe('done')
    expect(fake.listRequests.length).toBe(before + 1)
  })

  it('stop: a client that leaves closes the request at the server; the answer is saved as stopped', async () => {
    const { client } = await newWorker(app.server.url)
    fake.once({ tokenCount: 200, delayMs: 15 })
    const reply = await postChat(client, { message: 'Una respuesta larga' }, { disconnectAfterTokens: 3 })
    expect(reply.tokens.length).toBeGreaterThan(0)
    await fake.waitFor(requests => requests.some(r => r.path === '/v1/chat/completions' && r.aborted))
    const conversationId = reply.events[0]!.data.conversationId
    const answer = await eventually(async () => (await messagesOf(client, conversationId)).data.find((m: any) => m.role === 'assistant'))
    expect(answer.status).toBe('stopped')
    expect(answer.content.startsWith('tok0 tok1 tok2')).toBe(true)
    expect(fake.chatRequests.find(r => r.aborted)!.tokensSent).toBeLessThan(200)
  })

  it('the report agent works through streamed tool-call deltas: create_report, then list_my_reports', async () => {
    const { client } = await newWorker(app.server.url)
    fake.set({
      toolCalls: (body) => {
        const last = lastMessageOf(body)
        if (last?.role !== 'user') return null
        return /crea/.test(last.content)
          ? [{ name: 'create_report', arguments: { title: 'Fuga de agua en bodega 3', content: 'Gotea desde el techo del pasillo' } }]
          : [{ name: 'list_my_reports', arguments: {} }]
      },
      reply: (body) => {
        if (isTitleCall(body)) return 'Reportes'
        return openAiToolResultsOf(body).map(({ name, result }) =>
          result.error ? `${name} falló` : result.reports ? `Tus reportes: ${result.reports.map((r: any) => r.title).join('; ')}` : `${name} listo`).join(' ')
      },
    })
    try {
      const created = await postChat(client, { message: 'crea un reporte de la fuga' })
      expect(created.events.filter(e => e.event === 'tool').map(e => `${e.data.name}:${e.data.status}`)).toEqual(['create_report:running', 'create_report:done'])
      expect(created.tokens).toBe('create_report listo')
      const mine = await client.get('/api/reports')
      expect(mine.body.data.map((r: any) => r.title)).toEqual(['Fuga de agua en bodega 3'])

      const listed = await postChat(client, { message: '¿qué reportes tengo?' })
      expect(listed.tokens).toBe('Tus reportes: Fuga de agua en bodega 3')
      // the second request of that answer carries the call (arguments as a JSON string) and its result by id
      const followUp = fake.chatRequests.filter(r => !isTitleCall(r.body)).at(-1)!.body
      const call = followUp.messages.find((m: any) => m.role === 'assistant' && m.tool_calls)
      expect(call.tool_calls[0]).toMatchObject({ type: 'function', function: { name: 'list_my_reports', arguments: '{}' } })
      expect(followUp.messages.at(-1)).toMatchObject({ role: 'tool', tool_call_id: call.tool_calls[0].id })
    }
    finally { fake.reset() }
  })

  it('a wrong key: 503 (the message kept); admins see the 401 in Admin → Modelo', async () => {
    const other = await new FakeOpenAi({ apiKey: 'sk-other' }).start()
    const wrong = await appWith({ OLLAMA_HOSTS: `openai+${other.url}`, OPENAI_API_KEY: 'sk-pool-test' })
    try {
      const { client } = await newWorker(wrong.server.url)
      const reply = await postChat(client, { message: 'sin llave' })
      expect(reply.status).toBe(503)
      expect(reply.json.data).toMatchObject({ reason: 'ollama-down', userMessageId: expect.any(String) })
      const servers = await wrong.admin.get('/api/admin/model-servers')
      expect(servers.body.data).toEqual([expect.objectContaining({ kind: 'openai', state: 'down', lastError: expect.stringMatching(/401/) })])
      // the same error as a code (the UI words it): an HTTP error status, with the status and the server's message
      expect(servers.body.data[0]).toMatchObject({ lastErrorReason: 'http-status', lastErrorStatus: 401, lastErrorCode: null, lastErrorDetail: expect.any(String) })
      expect(servers.body.data[0].lastError).toContain(servers.body.data[0].lastErrorDetail)
      expect(other.unauthorized).toBeGreaterThan(0)
    }
    finally {
      await wrong.server.stop()
      await other.close()
      await wrong.db.drop()
    }
  }, 120_000) // starts a second app of its own
})

describe('a pool of two Ollamas', () => {
  let a: FakeOllama
  let b: FakeOllama
  let app: { db: TestDatabase, server: RunningServer, admin: Client }
  const answers = (fake: FakeOllama) => fake.chatRequests.filter(r => !isTitleCall(r.body))
  beforeAll(async () => {
    a = await new FakeOllama().start()
    b = await new FakeOllama().start()
    app = await appWith({ OLLAMA_HOSTS: `${a.url},${b.url}`, MODEL_CHECK_MS: '300' })
  })
  afterAll(async () => {
    await app?.server.stop()
    await a?.close()
    await b?.close()
    await app?.db.drop()
  })

  it('Admin → Modelo lists both servers, healthy, with their models and load; workers are refused', async () => {
    const res = await eventually(async () => {
      const r = await app.admin.get('/api/admin/model-servers')
      return r.body.data?.every((s: any) => s.state === 'healthy') && r
    })
    expect(res.body.data).toEqual([a, b].map((fake, i) => ({
      id: String(i), kind: 'ollama', url: fake.url, state: 'healthy', lastError: null, lastErrorReason: null, lastErrorStatus: null,
      lastErrorCode: null, lastErrorDetail: null, lastCheckAt: expect.any(String),
      models: ['qwen2.5:3b-instruct', 'llama3.2:1b'], load: 0,
    })))
    const { client } = await newWorker(app.server.url)
    expect((await client.get('/api/admin/model-servers')).status).toBe(403)
  })

  it('answers at the same time are spread over both servers, and the load shows while they run', async () => {
    a.reset().set({ tokenCount: 40, delayMs: 25 })
    b.reset().set({ tokenCount: 40, delayMs: 25 })
    const workers = await Promise.all([1, 2, 3, 4].map(() => newWorker(app.server.url)))
    const replies = Promise.all(workers.map(w => postChat(w.client, { message: 'a la vez' })))
    await a.waitFor(() => answers(a).length + answers(b).length === 4, 15_000)
    const busy = await app.admin.get('/api/admin/model-servers')
    expect(busy.body.data.map((s: any) => s.load).reduce((x: number, y: number) => x + y)).toBeGreaterThan(0)
    for (const reply of await replies) expect(ending(reply)!.event).toBe('done')
    expect([answers(a).length, answers(b).length]).toEqual([2, 2])
  })

  it('a server that refuses before the first token: the answer is retried once on the other one', async () => {
    a.reset().set({ errorStatus: 500, errorMessage: 'CUDA out of memory' })
    b.reset()
    const { client } = await newWorker(app.server.url)
    for (let i = 0; i < 4; i++) {
      const reply = await postChat(client, { message: `reintento ${i}` })
      expect(reply.status).toBe(200)
      expect(ending(reply)!.event).toBe('done')
    }
    expect(answers(a).length).toBeGreaterThan(0) // it was tried first at least once…
    expect(answers(b).length).toBe(4) // …and every answer came from the other
  })

  it('a server that dies is taken out (Admin shows why) and comes back once it answers again', async () => {
    a.reset()
    b.reset()
    const port = Number(new URL(a.url).port)
    await a.close()
    const { client } = await newWorker(app.server.url)
    for (let i = 0; i < 3; i++) expect(ending((await postChat(client, { message: `sin a ${i}` })))!.event).toBe('done')
    expect(answers(b).length).toBe(3)
    const down = await eventually(async () => {
      const r = await app.admin.get('/api/admin/model-servers')
      // a cut keep-alive socket may say ECONNRESET first; the next checks of the closed port say ECONNREFUSED
      return r.body.data[0].state === 'down' && r.body.data[0].lastErrorCode === 'ECONNREFUSED' && r.body.data[0]
    })
    expect(down.lastError).toMatch(/cannot be reached|ECONNREFUSED/)
    // the code: unreachable, with the socket's code (no status)
    expect(down).toMatchObject({ lastErrorReason: 'unreachable', lastErrorCode: 'ECONNREFUSED', lastErrorStatus: null, lastErrorDetail: null })
    a = await new FakeOllama({ port }).start()
    await eventually(async () => (await app.admin.get('/api/admin/model-servers')).body.data[0].state === 'healthy', 10_000)
    b.reset()
    const workers = await Promise.all([1, 2].map(() => newWorker(app.server.url)))
    b.set({ tokenCount: 30, delayMs: 25 })
    a.set({ tokenCount: 30, delayMs: 25 })
    await Promise.all(workers.map(w => postChat(w.client, { message: 'de vuelta' })))
    expect(answers(a).length).toBe(1)
  })
})
