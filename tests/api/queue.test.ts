import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ending, eventually, isTitleCall, postChat, startChatServer, type ChatServer, type SseEvent } from '../support/chat'
import { newWorker } from '../support/http'


// one model slot (the default), a rate limit low enough to reach
let srv: ChatServer
beforeAll(async () => { srv = await startChatServer({ MAX_CONCURRENT_GENERATIONS: '1', CHAT_RATE_LIMIT: '3/1m' }) })
afterAll(async () => { await srv?.stop() })
beforeEach(() => { srv.fake.reset() })

/** Records when each event arrived. */
function timeline() {
  const seen: Array<SseEvent & { at: number }> = []
  return { seen, onEvent: (e: SseEvent) => { seen.push({ ...e, at: Date.now() }) } }
}

describe('the generation queue', () => {
  it('two users, one slot: the second waits with its position, both get complete answers, never two answers at once', async () => {
    const [a, b, c] = await Promise.all([newWorker(srv.url), newWorker(srv.url), newWorker(srv.url)])
    srv.fake.set({ tokenCount: 15, delayMs: 10 })
    // a's answer waits at the gate until b and c are in line, however slow the machine is
    const { gate, open } = srv.fake.gate()
    srv.fake.once({ gate })
    const ta = timeline()
    const tb = timeline()
    const tc = timeline()
    const first = postChat(a.client, { message: 'primero' }, { onEvent: ta.onEvent })
    await srv.fake.waitFor(requests => requests.some(r => r.path === '/api/chat'))
    const second = postChat(b.client, { message: 'segundo' }, { onEvent: tb.onEvent })
    await eventually(async () => tb.seen.some(e => e.event === 'queue'), 30_000)
    const third = postChat(c.client, { message: 'tercero' }, { onEvent: tc.onEvent })
    await eventually(async () => tc.seen.some(e => e.event === 'queue'), 30_000)
    open()
    const replies = await Promise.all([first, second, third])

    for (const reply of replies) {
      expect(reply.status).toBe(200)
      expect(ending(reply)!.event).toBe('done')
      expect(reply.tokens).toBe(Array.from({ length: 15 }, (_, i) => `tok${i} `).join(''))
    }
    expect(ta.seen.some(e => e.event === 'queue')).toBe(false)
    // meta first, then the place in line, then the answer
    expect(tb.seen.map(e => e.event).slice(0, 3)).toEqual(['meta', 'queue', 'token'])
    expect(tb.seen.filter(e => e.event === 'queue').map(e => e.data.position)).toEqual([1])
    expect(tc.seen.filter(e => e.event === 'queue').map(e => e.data.position)).toEqual([2, 1])
    // served in turn: b's first token only after a is done, c's after b's
    const at = (t: ReturnType<typeof timeline>, name: string) => t.seen.find(e => e.event === name)!.at
    expect(at(tb, 'token')).toBeGreaterThanOrEqual(at(ta, 'done'))
    expect(at(tc, 'token')).toBeGreaterThanOrEqual(at(tb, 'done'))
    // answers never overlap; a title call runs after its answer freed the slot (issue #12)
    const calls = srv.fake.chatRequests.filter(r => !isTitleCall(r.body)).map(r => [r.at, r.endedAt!] as const).sort((x, y) => x[0] - y[0])
    for (let i = 1; i < calls.length; i++) expect(calls[i]![0]).toBeGreaterThanOrEqual(calls[i - 1]![1])
  })

  it('a client that leaves while waiting gives up its place; the model never sees its request', async () => {
    const [a, b, c] = await Promise.all([newWorker(srv.url), newWorker(srv.url), newWorker(srv.url)])
    srv.fake.set({ tokenCount: 20, delayMs: 15 })
    const { gate, open } = srv.fake.gate()
    srv.fake.once({ gate })
    const first = postChat(a.client, { message: 'primero' })
    await srv.fake.waitFor(requests => requests.some(r => r.path === '/api/chat'))
    const gone = await postChat(b.client, { message: 'me voy' }, { disconnectOnEvent: 'queue' })
    expect(gone.events.map(e => e.event)).toEqual(['meta', 'queue'])
    open()
    expect(ending((await first))!.event).toBe('done')
    // had b kept its place, it would be served before anyone who comes after it: c is served, b never
    const later = await postChat(c.client, { message: 'después' })
    expect(ending(later)!.event).toBe('done')
    expect(srv.fake.chatRequests.every(r => r.body.messages.at(-1).content !== 'me voy')).toBe(true)
    // the user message was saved before waiting; no answer was generated
    const conversationId = gone.events[0]!.data.conversationId
    const saved = (await b.client.get(`/api/conversations/${conversationId}/messages`)).body
    expect(saved.data.map((m: any) => m.role)).toEqual(['user'])
  })

  it('CHAT_RATE_LIMIT counts each request per user: past it → 429 with Retry-After', async () => {
    const { client } = await newWorker(srv.url)
    for (let i = 0; i < 3; i++) expect((await postChat(client, { message: `hola ${i}` })).status).toBe(200)
    const limited = await postChat(client, { message: 'una más' })
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    // another user is not affected
    const other = await newWorker(srv.url)
    expect((await postChat(other.client, { message: 'hola' })).status).toBe(200)
  })
})
