import { describe, expect, it } from 'vitest'
import type { ApiConversation, ApiMessage } from '#shared/types'
import { memoryDb } from '../support/memory-kv'
import { createOfflineHistory, mergeConversationPage, mergeMessages, searchable, splitByBudget } from '../../utils/idb-history'
import { createOutbox, newOutboxItem } from '../../utils/idb-outbox'

let clock = Date.UTC(2025, 0, 1)
function conversation(id: string, change: Partial<ApiConversation> = {}): ApiConversation {
  clock += 60_000
  const at = new Date(clock).toISOString()
  return { id, userId: 'u1', title: `Conversación ${id}`, model: 'qwen', systemPromptId: null, pinned: false, archived: false, messageCount: 2, createdAt: at, updatedAt: at, ...change }
}
function message(id: string, content: string, at: string): ApiMessage {
  return { id, conversationId: 'c1', role: 'user', content, status: 'complete', model: null, usage: null, createdAt: at }
}
const ids = (list: ApiConversation[]) => list.map(c => c.id)

describe('conversation list pages', () => {
  it('a full first page replaces what it spans: conversations deleted elsewhere disappear, the rest stay', () => {
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map(id => conversation(id)) // d is the newest
    const cached = [d!, c!, b!, a!]
    // the server now lists d and b on the first page of 3 (c was deleted), a is on the next page
    const merged = mergeConversationPage(cached, { total: 3, data: [d!, b!] }, { offset: 0, limit: 2, q: '' })
    expect(ids(merged)).toEqual(['d', 'b', 'a'])
  })

  it('the last page also drops older cached conversations that the server no longer has', () => {
    const [a, b, c] = ['a', 'b', 'c'].map(id => conversation(id))
    const merged = mergeConversationPage([c!, b!, a!], { total: 2, data: [b!] }, { offset: 1, limit: 50, q: '' })
    expect(ids(merged)).toEqual(['c', 'b'])
  })

  it('a search page only adds and updates', () => {
    const [a, b] = ['a', 'b'].map(id => conversation(id))
    const renamed = { ...a!, title: 'Nuevo título' }
    const merged = mergeConversationPage([b!, a!], { total: 1, data: [renamed] }, { offset: 0, limit: 50, q: 'nuevo' })
    expect(merged.map(c => c.title)).toEqual(['Conversación b', 'Nuevo título'])
  })

  it('keeps pinned conversations first, like the server', () => {
    const [a, b] = ['a', 'b'].map(id => conversation(id))
    const merged = mergeConversationPage([], { total: 2, data: [b!, { ...a!, pinned: true }] }, { offset: 0, limit: 50, q: '' })
    expect(ids(merged)).toEqual(['a', 'b'])
  })

  it('the budget keeps the newest by last update, pinned or not', () => {
    const [a, b, c] = ['a', 'b', 'c'].map(id => conversation(id))
    const { keep, evict } = splitByBudget([{ ...a!, pinned: true }, c!, b!], 2)
    expect(ids(keep)).toEqual(['c', 'b'])
    expect(ids(evict)).toEqual(['a'])
  })
})

describe('messages', () => {
  it('merges pages by id in time order, and never keeps messages that have no server id yet', () => {
    const old = { total: 3, data: [message('m1', 'uno', '2025-01-01T00:00:01Z'), message('m2', 'dos', '2025-01-01T00:00:02Z')] }
    const merged = mergeMessages(old, { total: 4, data: [message('m2', 'dos (editado)', '2025-01-01T00:00:02Z'), message('m3', 'tres', '2025-01-01T00:00:03Z'), message('local-9', 'sin id', '2025-01-01T00:00:04Z')] })
    expect(merged.data.map(m => m.content)).toEqual(['uno', 'dos (editado)', 'tres'])
    expect(merged.total).toBe(4)
  })

  it('searches without case or accents', () => {
    expect(searchable('Canción ÉPICA')).toBe('cancion epica')
  })
})

describe('one user\'s offline history', () => {
  it('saves pages and opened conversations under the user\'s id, searches them, and evicts past the budget with their messages', async () => {
    const db = memoryDb()
    let budget = 3
    const history = createOfflineHistory(db, 'u1', () => budget)
    const list = ['a', 'b', 'c', 'd'].map(id => conversation(id)).reverse() // newest first
    await history.savePage({ total: 4, data: list }, { offset: 0, limit: 50, q: '' })
    expect(ids((await history.listPage({ offset: 0, limit: 50, q: '' })).data)).toEqual(['d', 'c', 'b']) // a evicted

    await history.saveMessages('b', { total: 2, data: [message('m1', 'Revisión del transformador', '2025-01-01T00:00:01Z')] })
    expect((await history.listPage({ offset: 0, limit: 50, q: 'TRANSFORMADOR' })).data.map(c => c.id)).toEqual(['b'])
    expect((await history.listPage({ offset: 0, limit: 50, q: 'conversación d' })).data.map(c => c.id)).toEqual(['d'])
    expect(await history.listPage({ offset: 1, limit: 1, q: '' })).toMatchObject({ total: 3, data: [{ id: 'c' }] })

    budget = 1
    await history.enforceBudget()
    expect(ids((await history.listPage({ offset: 0, limit: 50, q: '' })).data)).toEqual(['d'])
    expect(await history.messages('b')).toBeUndefined()
    expect([...db.dump().keys()].every(key => key.startsWith('["u1",'))).toBe(true)
    expect(await history.stats()).toMatchObject({ conversations: 1, messages: 0 })
  })

  it('forgets a deleted conversation and its messages; clear() keeps the outbox', async () => {
    const db = memoryDb()
    const history = createOfflineHistory(db, 'u1', () => 200)
    const outbox = createOutbox(db, 'u1')
    const a = conversation('a')
    await history.saveConversation(a)
    await history.saveMessages('a', { total: 1, data: [message('m1', 'hola', '2025-01-01T00:00:01Z')] })
    await outbox.put(newOutboxItem({ conversationId: 'a', message: 'pendiente' }))
    await history.forgetConversation('a')
    expect(await history.conversation('a')).toBeUndefined()
    expect(await history.messages('a')).toBeUndefined()

    await history.saveConversation(conversation('b'))
    await history.clear()
    expect(await history.stats()).toEqual({ conversations: 0, messages: 0, bytes: 2 })
    expect((await outbox.list()).map(i => i.message)).toEqual(['pendiente'])
  })

  it('an answer saved before its new conversation is listed keeps its messages until the server lists it; a whole list sweeps the rest', async () => {
    const db = memoryDb()
    const history = createOfflineHistory(db, 'u1', () => 200)
    const fresh = conversation('fresh')
    // the answer's messages landed, the new conversation's entry did not (the page was left first)
    await history.saveMessages('fresh', { total: 2, data: [message('m1', 'pregunta', '2025-01-01T00:00:01Z')] })
    // messages of a conversation that left the list without their clean-up (a page closed in between)
    await db.set(['u1', 'messages', 'gone'], { total: 1, data: [message('m0', 'vieja', '2025-01-01T00:00:00Z')] })
    // the next page load opens the cache and enforces the budget: nothing of either is dropped yet
    await history.enforceBudget()
    expect(await history.savedIds()).toEqual(new Set(['fresh', 'gone']))
    // the server's whole list (one page of everything) lists the new conversation; the other one's messages go
    await history.savePage({ total: 1, data: [fresh] }, { offset: 0, limit: 50, q: '' })
    expect(await history.savedIds()).toEqual(new Set(['fresh']))
    expect((await history.messages('fresh'))?.data.map(m => m.content)).toEqual(['pregunta'])
  })

  it('a list page asked for before a conversation was started here does not drop it; one deleted elsewhere goes with its messages', async () => {
    const db = memoryDb()
    const history = createOfflineHistory(db, 'u1', () => 200)
    const [old, started] = [conversation('old'), conversation('started')]
    await history.savePage({ total: 1, data: [old] }, { offset: 0, limit: 50, q: '' })
    await history.saveConversation(started)
    await history.saveMessages('started', { total: 1, data: [message('m1', 'hola', '2025-01-01T00:00:01Z')] })
    await history.saveMessages('old', { total: 1, data: [message('m2', 'antes', '2025-01-01T00:00:00Z')] })
    // the page was asked for before `started` existed and `old` was deleted on another device meanwhile
    await history.savePage({ total: 0, data: [] }, { offset: 0, limit: 50, q: '' }, id => id === 'started')
    expect(ids((await history.listPage({ offset: 0, limit: 50, q: '' })).data)).toEqual(['started'])
    expect(await history.savedIds()).toEqual(new Set(['started']))
    // without `keep`, the same page would have dropped it
    expect(ids(mergeConversationPage([started], { total: 0, data: [] }, { offset: 0, limit: 50, q: '' }))).toEqual([])
  })

  it('two users on one device never read each other\'s history', async () => {
    const db = memoryDb()
    const mine = createOfflineHistory(db, 'u1', () => 200)
    const theirs = createOfflineHistory(db, 'u2', () => 200)
    await mine.saveConversation(conversation('a'))
    expect((await theirs.listPage({ offset: 0, limit: 50, q: '' })).total).toBe(0)
    expect(await theirs.conversation('a')).toBeUndefined()
  })
})

describe('outbox', () => {
  it('lists messages in the order they were typed, even within one millisecond, and removes them one by one', async () => {
    const db = memoryDb()
    const outbox = createOutbox(db, 'u1')
    const now = Date.now()
    const items = ['primero', 'segundo', 'tercero'].map(text => newOutboxItem({ conversationId: 'c1', message: text }, now))
    for (const item of [items[2]!, items[0]!, items[1]!]) await outbox.put(item)
    expect((await outbox.list()).map(i => i.message)).toEqual(['primero', 'segundo', 'tercero'])
    await outbox.remove(items[1]!.id)
    expect((await outbox.list()).map(i => i.message)).toEqual(['primero', 'tercero'])
    expect(await createOutbox(db, 'u2').list()).toEqual([])
  })
})
