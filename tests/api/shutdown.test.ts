import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { postChat } from '../support/chat'
import { FakeOllama } from '../support/fake-ollama'
import { Client, GOOD_PASSWORD, uniqueEmail } from '../support/http'
import { createTestDatabase, startServer, type TestDatabase } from '../support/server'

// SIGTERM during a streaming answer: the process exits 0 within the grace period and the answer is saved
// (complete, or `stopped` with what was generated), never lost or half-written.
describe('graceful shutdown', () => {
  let fake: FakeOllama
  let db: TestDatabase
  beforeAll(async () => {
    fake = await new FakeOllama().start()
    db = await createTestDatabase(inject('dbKind'))
  })
  afterAll(async () => {
    await fake.close()
    await db.drop()
  })

  async function signedIn(url: string) {
    const client = new Client(url)
    const email = uniqueEmail('shutdown')
    expect((await client.post('/api/auth/register', { email, password: GOOD_PASSWORD, fullName: 'Apagado' })).status).toBe(201)
    return { client, email }
  }

  async function lastAnswer(email: string) {
    const server = await startServer({ DATABASE_URL: db.url, OLLAMA_HOST: fake.url })
    try {
      const client = new Client(server.url)
      await client.login(email, GOOD_PASSWORD)
      const [conversation] = (await client.get('/api/conversations')).body.data
      const messages = (await client.get(`/api/conversations/${conversation.id}/messages`)).body.data
      return messages.at(-1)
    }
    finally { await server.stop() }
  }

  it('an answer still streaming when the grace period ends is saved as stopped with its text; exit code 0', async () => {
    fake.reset().set({ tokenCount: 400, delayMs: 25 })
    const server = await startServer({ DATABASE_URL: db.url, OLLAMA_HOST: fake.url, NITRO_SHUTDOWN_TIMEOUT: '800' })
    const { client, email } = await signedIn(server.url)
    let tokens = 0
    let received = ''
    let stopAt = 0
    let exited: Promise<number | null> | undefined
    const result = await postChat(client, { message: 'Cuéntame una historia larga' }, {
      onEvent: (e) => {
        if (e.event !== 'token') return
        received += e.data.t
        if (++tokens === 5) { stopAt = Date.now(); exited = server.stop('SIGTERM') }
      },
    })
    // the stream ends early (no done event) when the grace period is over
    expect(result.status).toBe(200)
    expect(result.events.map(e => e.event)).not.toContain('done')
    const code = await exited
    expect(code).toBe(0)
    expect(Date.now() - stopAt).toBeLessThan(8000)
    const answer = await lastAnswer(email)
    expect(answer.role).toBe('assistant')
    expect(answer.status).toBe('stopped')
    expect(answer.content.length).toBeGreaterThan(0)
    expect(answer.content).toBe(received)
  })

  it('an answer that finishes within the grace period completes and is saved complete', async () => {
    fake.reset().set({ tokenCount: 20, delayMs: 50 })
    const server = await startServer({ DATABASE_URL: db.url, OLLAMA_HOST: fake.url, NITRO_SHUTDOWN_TIMEOUT: '10000' })
    const { client, email } = await signedIn(server.url)
    let exited: Promise<number | null> | undefined
    const result = await postChat(client, { message: 'Respuesta corta' }, {
      onEvent: (e) => { if (e.event === 'token' && !exited) exited = server.stop('SIGTERM') },
    })
    expect(result.events.map(e => e.event)).toContain('done')
    expect(await exited).toBe(0)
    const answer = await lastAnswer(email)
    expect(answer.status).toBe('complete')
    expect(answer.content).toBe(result.tokens)
  })
  it('SHUTDOWN_DRAIN_MS: after SIGTERM health answers 503 draining while chats and reads are still served; then it exits 0', async () => {
    fake.reset().set({ tokenCount: 5, delayMs: 20 })
    const server = await startServer({ DATABASE_URL: db.url, OLLAMA_HOST: fake.url, SHUTDOWN_DRAIN_MS: '5000' })
    const { client } = await signedIn(server.url)
    expect((await fetch(`${server.url}/api/health?lb`)).status).toBe(200)
    let gone = false
    const exited = server.stop('SIGTERM').then((code) => { gone = true; return code })
    await expect.poll(async () => (await fetch(`${server.url}/api/health`)).status, { timeout: 3000 }).toBe(503)
    // still draining: every health form says so, and the app serves as usual
    for (const path of ['/api/health', '/api/health?lb', '/health']) {
      const res = await fetch(`${server.url}${path}`)
      expect(res.status, path).toBe(503)
      expect(await res.json()).toMatchObject({ status: 'draining' })
    }
    const reply = await postChat(client, { message: 'durante el drenaje' })
    expect(reply.status).toBe(200)
    expect(reply.events.map(e => e.event)).toContain('done')
    expect((await client.get('/api/conversations')).status).toBe(200)
    expect(gone).toBe(false)
    expect(await exited).toBe(0)
  })
})
