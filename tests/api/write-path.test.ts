import { spawn } from 'node:child_process'
import postgres from 'postgres'
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { type ChatReply, type ChatServer, ending, eventually, parseSse, postChat, startChatServer } from '../support/chat'
import { FakeOllama } from '../support/fake-ollama'
import { Client, DEMO, newWorker } from '../support/http'
import { createTestDatabase, ROOT, startServer } from '../support/server'

// The chat write path under concurrency (issue #12, #11): no database write transaction is held across an await,
// so writers arriving while turns are in flight never queue behind a lock. On libSQL a transaction left open
// across other work makes every other write of the process busy-wait synchronously for the lock (5 s timeout,
// server/db/client.ts): requests then take ≥ 5 s or fail with SQLITE_BUSY.

let srv: ChatServer
beforeAll(async () => { srv = await startChatServer({ MAX_CONCURRENT_GENERATIONS: '64' }) })
afterAll(async () => { await srv?.stop() })
beforeEach(() => { srv.fake.reset() })

const N = 16
// well under the 5 s busy timeout, and far over what one short batch holds the lock for even on a loaded machine
const LOCK_WAIT_MS = 2_000

/**
 * SQLite only: a second process that takes the database's write lock every 20 ms (BEGIN IMMEDIATE; ROLLBACK) and
 * reports the longest it had to wait. A write transaction held across awaits shows as a multi-second wait (the
 * app's own writers then spin until their 5 s busy timeout); one short batch per write holds it for milliseconds.
 */
function lockProbe(url: string) {
  const file = url.replace(/^file:/, '')
  const script = `const D = require('libsql'); const db = new D(${JSON.stringify(file)}, { timeout: 30000 }); let max = 0;
    const tick = () => { const t = performance.now(); db.exec('BEGIN IMMEDIATE'); db.exec('ROLLBACK'); max = Math.max(max, performance.now() - t) };
    const timer = setInterval(tick, 20); process.stdin.on('data', () => { clearInterval(timer); process.stdout.write(String(Math.round(max))); process.exit(0) }); process.stdin.resume(); process.stdout.write('ready\\n')`
  const child = spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['pipe', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d) => { out += d })
  return {
    ready: () => eventually(async () => out.includes('ready'), 30_000),
    /** The longest wait for the write lock seen, in ms (NaN if it did not answer; it is killed then). */
    stop: async () => {
      const exited = new Promise(resolve => child.on('exit', resolve))
      child.stdin.write('stop\n')
      const timer = setTimeout(() => child.kill('SIGKILL'), 35_000)
      await exited
      clearTimeout(timer)
      return Number(out.split('\n').at(-1))
    },
  }
}

describe('chat write path under concurrent writers', () => {
  it('concurrent chats (new and existing conversations) and renames all succeed without waiting on a lock', { timeout: 180_000 }, async () => {
    const users: Array<{ client: Client, conversationId: string }> = []
    // one generation per user at a time: half the users open new conversations, half write into their own
    for (let i = 0; i < 2 * N; i++) {
      const { client } = await newWorker(srv.url)
      const created = await client.post('/api/conversations', { title: `c${i}` })
      expect(created.status).toBe(201)
      users.push({ client, conversationId: created.body.id })
    }
    srv.fake.set({ tokenCount: 20, delayMs: 5 })
    const probe = inject('dbKind') === 'sqlite' ? lockProbe(srv.db.url) : undefined
    let chatResults: ChatReply[], renameResults: Array<{ status: number }>
    let longestLockWait: number | undefined
    try {
      await probe?.ready()
      const chats = users.map(({ client, conversationId }, i) => i < N
        ? postChat(client, { message: `nueva ${i}` })
        : postChat(client, { message: `sigue ${i}`, conversationId }))
      const renames = users.slice(0, N).map(({ client, conversationId }, i) => client.patch(`/api/conversations/${conversationId}`, { title: `renombrada ${i}` }))
      ;[chatResults, renameResults] = await Promise.all([Promise.all(chats), Promise.all(renames)])
    }
    finally {
      longestLockWait = await probe?.stop()
    }

    for (const reply of chatResults) {
      expect(reply.status).toBe(200)
      expect(ending(reply)).toMatchObject({ event: 'done' })
    }
    for (const reply of renameResults) expect(reply.status).toBe(200)
    // nothing held the write lock for long (a transaction across awaits held it up to the 5 s busy timeout)
    if (probe) expect(longestLockWait).toBeLessThan(LOCK_WAIT_MS)

    // every question and every answer was saved, each in its own conversation
    for (const { client, conversationId } of users.slice(N)) {
      const saved = (await client.get(`/api/conversations/${conversationId}/messages`)).body
      expect(saved.data.map((m: any) => [m.role, m.status])).toEqual([['user', 'complete'], ['assistant', 'complete']])
    }
  })
})

const isTitleCall = (body: any) => String(body?.messages?.[0]?.content ?? '').includes('título breve')

describe('done before the title', () => {
  it('done comes once the answer is saved, the slot is free at once; the title follows on the same stream', { timeout: 60_000 }, async () => {
    const admin = new Client(srv.url)
    await admin.login(DEMO.admin.email, DEMO.admin.password)
    expect((await admin.put('/api/admin/settings', { maxConcurrentGenerations: 1 })).status).toBe(200)
    try {
      const [a, b] = [await newWorker(srv.url), await newWorker(srv.url)]
      // the title call is slow (a model naming the conversation); answers are quick
      srv.fake.set({ reply: body => (isTitleCall(body) ? 'Un título tardío' : 'Hola, aquí estoy.'), firstTokenDelayFor: body => (isTitleCall(body) ? 5000 : 0) })
      let other: Promise<ChatReply> | undefined
      const first = await postChat(a.client, { message: 'Primera pregunta' }, {
        // b asks the moment a's answer is done: with one slot, b must not wait for a's title
        onEvent: (e) => { if (e.event === 'done') other = postChat(b.client, { message: 'Otra pregunta' }) },
      })
      const second = await other!
      expect(first.events.map(e => e.event).filter((n, i, all) => n !== 'token' || all[i - 1] !== 'token')).toEqual(['meta', 'token', 'done', 'title'])
      expect(first.events.at(-1)!.data).toEqual({ title: 'Un título tardío' })
      expect(second.status).toBe(200)
      expect(second.events.map(e => e.event)).not.toContain('queue')
      expect(ending(second)).toMatchObject({ event: 'done' })
      // b's answer went to the model while a's title call was still running: the slot was free
      const titleCall = srv.fake.chatRequests.find(r => isTitleCall(r.body) && r.body.messages.some((m: any) => String(m.content).includes('Primera pregunta')))!
      const bCall = srv.fake.chatRequests.find(r => !isTitleCall(r.body) && r.body.messages.at(-1).content === 'Otra pregunta')!
      expect(bCall.at).toBeLessThan(titleCall.endedAt!)
    }
    finally {
      await admin.put('/api/admin/settings', { maxConcurrentGenerations: 64 })
    }
  })
})

describe('the first token', () => {
  it('reaches the client while the model is still writing the second (the commit gate holds nothing back once open)', { timeout: 60_000 }, async () => {
    const { client } = await newWorker(srv.url)
    // the model sends its first token, then waits until that token has reached the client; a server that held the
    // first token until the second arrived would keep both sides waiting until the fallback timer opens the gate
    const { gate, open } = srv.fake.gate()
    srv.fake.once({ reply: () => 'Primera segunda tercera', gate, gateAfter: 1 })
    let forced = false
    const fallback = setTimeout(() => { forced = true; open() }, 10_000)
    let tokensAtFirst: string | undefined
    const reply = await postChat(client, { message: 'Hola' }, {
      onEvent: (e) => {
        if (e.event === 'token' && tokensAtFirst === undefined) { tokensAtFirst = (e.data as { t: string }).t; open() }
      },
    })
    clearTimeout(fallback)
    expect(forced).toBe(false)
    expect(tokensAtFirst).toBe('Primera')
    expect(reply.tokens).toBe('Primera segunda tercera')
    expect(ending(reply)).toMatchObject({ event: 'done' })
  })
})

// PostgreSQL only: a lock held from another connection keeps the question's commit waiting for as long as the test
// wants. (SQLite's commit gives up after its 5 s busy timeout; tests/unit/hold-until.test.ts covers the bound there.)
if (inject('dbKind') === 'pg') describe('an answer read while the question commits', () => {
  it('a commit that waits does not make the server read a fast model\'s whole answer into memory; the answer then streams whole', { timeout: 60_000 }, async () => {
    const { client } = await newWorker(srv.url)
    // 3000 parts of 8 KB (24 MB): far more than the read-ahead and the sockets between the model and the app hold
    const tokens = Array.from({ length: 3000 }, (_, i) => `${i} ${'x'.repeat(8000)} `)
    srv.fake.once({ tokens })
    const locker = postgres(srv.db.url, { max: 1, onnotice: () => {} })
    let release!: () => void
    const released = new Promise<void>((resolve) => { release = resolve })
    const held = new Promise<void>((resolve, reject) => {
      locker.begin(async (sql) => {
        await sql`lock table messages in exclusive mode`
        resolve()
        await released
      }).catch(reject)
    })
    try {
      await held
      const reply = postChat(client, { message: 'Un texto largo' })
      // the model answers at once; the server reads ahead while the insert waits for the lock
      await srv.fake.waitFor(requests => requests.some(r => r.path === '/api/chat' && r.tokensSent > 0), 30_000)
      const model = srv.fake.chatRequests[0]!
      // what the fake has written stops growing once the read-ahead and the socket buffers are full
      let last = -1
      await expect.poll(() => { const stalled = model.tokensSent === last; last = model.tokensSent; return stalled }, { timeout: 30_000, interval: 300 }).toBe(true)
      expect(model.completed).toBe(false)
      expect(model.tokensSent).toBeLessThan(tokens.length)
      release()
      const answer = await reply
      expect(ending(answer)).toMatchObject({ event: 'done' })
      expect(answer.tokens).toBe(tokens.join(''))
      expect(model.completed).toBe(true)
    }
    finally {
      release()
      await locker.end({ timeout: 5 })
    }
  })
})

describe('checkpoints of long answers', () => {
  it('a SIGKILL mid-answer keeps the text saved so far: a prefix of what was streamed, status stopped', { timeout: 120_000 }, async () => {
    const fake = await new FakeOllama().start()
    const db = await createTestDatabase(inject('dbKind'))
    const env = { DATABASE_URL: db.url, OLLAMA_HOST: fake.url, CHAT_RATE_LIMIT: '10000/1m', CHAT_CHECKPOINT_MS: '300' }
    let server = await startServer(env)
    try {
      const { client, email, password } = await newWorker(server.url)
      const created = await client.post('/api/conversations', { title: 'larga' })
      // 400 tokens, 20 ms apart: 8 s of streaming
      fake.set({ tokenCount: 400, delayMs: 20 })
      let streamed = ''
      // read the stream by hand: the connection dies with the server, and that must not be an unhandled error
      const reply = (async () => {
        const res = await fetch(`${server.url}/api/chat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'cookie': [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
          body: JSON.stringify({ message: 'Cuéntame todo', conversationId: created.body.id }),
        })
        const decoder = new TextDecoder()
        let buffer = ''
        for await (const chunk of res.body! as unknown as AsyncIterable<Uint8Array>) {
          buffer += decoder.decode(chunk as Uint8Array, { stream: true })
          const cut = buffer.lastIndexOf('\n\n')
          if (cut < 0) continue
          for (const e of parseSse(buffer.slice(0, cut + 2)).events) if (e.event === 'token') streamed += e.data.t
          buffer = buffer.slice(cut + 2)
        }
      })().catch(() => null) // handled at once: the connection dies with the server (an unhandled rejection otherwise)
      // a checkpoint holding part of the answer (the API shows it mid-stream, as stopped, never complete)
      const partial = await eventually(async () => {
        const rows = (await client.get(`/api/conversations/${created.body.id}/messages`)).body.data as any[]
        const answer = rows.find(m => m.role === 'assistant')
        return answer && answer.content.length > 0 ? answer : undefined
      }, 10_000)
      expect(partial.status).toBe('stopped')
      await eventually(async () => streamed.length > partial.content.length + 20)
      await server.stop('SIGKILL')
      await reply
      expect(streamed.length).toBeLessThan(400 * 'tok399 '.length)

      server = await startServer(env)
      const again = new Client(server.url)
      await again.login(email, password)
      const rows = (await again.get(`/api/conversations/${created.body.id}/messages`)).body.data as any[]
      expect(rows.map(m => m.role)).toEqual(['user', 'assistant'])
      const saved = rows[1]
      expect(saved.status).toBe('stopped')
      expect(saved.content.length).toBeGreaterThanOrEqual(partial.content.length)
      expect(streamed.startsWith(saved.content)).toBe(true)
    }
    finally {
      await server.stop()
      await fake.close()
      await db.drop()
    }
  })
})
