import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type ChatServer, postChat, startChatServer } from '../support/chat'
import { type Client, newWorker } from '../support/http'

// The chat write path under concurrency (issue #12, #11): no database write transaction is held across an await,
// so writers arriving while turns are in flight never queue behind a lock. On libSQL a transaction left open
// across other work makes every other write of the process busy-wait synchronously for the lock (5 s timeout,
// server/db/client.ts): requests then take ≥ 5 s or fail with SQLITE_BUSY.

let srv: ChatServer
beforeAll(async () => { srv = await startChatServer() })
afterAll(async () => { await srv?.stop() })
beforeEach(() => { srv.fake.reset() })

const N = 16
// well under the 5 s busy timeout a lock wait costs, and far over what a write takes even on a loaded machine
const LOCK_WAIT_MS = 4_000

async function timed<T>(work: () => Promise<T>) {
  const started = performance.now()
  const value = await work()
  return { value, ms: performance.now() - started }
}

describe('chat write path under concurrent writers', () => {
  it('concurrent chats (new and existing conversations) and renames all succeed without waiting on a lock', async () => {
    const users: Array<{ client: Client, conversationId: string }> = []
    // one generation per user at a time: half the users open new conversations, half write into their own
    for (let i = 0; i < 2 * N; i++) {
      const { client } = await newWorker(srv.url)
      const created = await client.post('/api/conversations', { title: `c${i}` })
      expect(created.status).toBe(201)
      users.push({ client, conversationId: created.body.id })
    }
    srv.fake.set({ tokenCount: 20, delayMs: 5 })
    const chats = users.map(({ client, conversationId }, i) => i < N
      ? timed(() => postChat(client, { message: `nueva ${i}` }))
      : timed(() => postChat(client, { message: `sigue ${i}`, conversationId })))
    const renames = users.slice(0, N).map(({ client, conversationId }, i) =>
      timed(() => client.patch(`/api/conversations/${conversationId}`, { title: `renombrada ${i}` })))
    const [chatResults, renameResults] = await Promise.all([Promise.all(chats), Promise.all(renames)])

    for (const { value } of chatResults) {
      expect(value.status).toBe(200)
      expect(value.events.map(e => e.event)).toContain('done')
    }
    for (const { value } of renameResults) expect(value.status).toBe(200)
    const slowest = Math.max(...renameResults.map(r => r.ms), ...chatResults.map(r => r.ms))
    expect(slowest).toBeLessThan(LOCK_WAIT_MS)

    // every question and every answer was saved, each in its own conversation
    for (const { client, conversationId } of users.slice(N)) {
      const saved = (await client.get(`/api/conversations/${conversationId}/messages`)).body
      expect(saved.data.map((m: any) => [m.role, m.status])).toEqual([['user', 'complete'], ['assistant', 'complete']])
    }
  })
})
