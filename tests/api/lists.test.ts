import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ending, eventually, postChat, startChatServer, type ChatServer } from '../support/chat'
import { dbQuery, dbTime } from '../support/db'
import { Client, DEMO, newWorker } from '../support/http'

// Issue #12 (lists half): keyset paging, the stored message count, full-text search with snippets, stats rollups.
let srv: ChatServer
beforeAll(async () => { srv = await startChatServer() })
afterAll(async () => { await srv?.stop() })

const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) => dbQuery<T>(text, params, srv.db.url)
const worker = () => newWorker(srv.url)
const signedIn = async (who: { email: string, password: string }) => {
  const client = new Client(srv.url)
  await client.login(who.email, who.password)
  return client
}
const create = async (client: Client, title: string) => {
  const res = await client.post('/api/conversations', { title })
  expect(res.status).toBe(201)
  return res.body.id as string
}
const chat = async (client: Client, body: Record<string, unknown>) => {
  const reply = await postChat(client, body)
  expect(ending(reply)?.event).toBe('done')
  return reply.events[0]!.data.conversationId as string
}
const search = async (client: Client, q: string) => (await client.get(`/api/conversations?q=${encodeURIComponent(q)}`)).body
const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()

describe('conversation lists: keyset paging', () => {
  it('cursor pages cover every conversation once, in list order, while new ones are added at the top', async () => {
    const { client } = await worker()
    for (let i = 0; i < 7; i++) await create(client, `c${i}`)
    const pinned = await create(client, 'pinned')
    await client.patch(`/api/conversations/${pinned}`, { pinned: true })
    const expected = (await client.get('/api/conversations?limit=100')).body.data.map((c: any) => c.id)
    expect(expected).toHaveLength(8)
    expect(expected[0]).toBe(pinned)

    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const res: any = await client.get(`/api/conversations?limit=3${cursor ? `&cursor=${cursor}` : ''}`)
      expect(res.status).toBe(200)
      expect(res.body.total).toBe(8 + pages)
      seen.push(...res.body.data.map((c: any) => c.id))
      cursor = res.body.nextCursor
      // a conversation started between pages goes to the top: it must not shift the pages that follow
      await create(client, `new${pages++}`)
    } while (cursor)
    expect(pages).toBe(3)
    expect(seen).toEqual(expected)
    // offset paging still answers, with nextCursor too
    const byOffset = (await client.get('/api/conversations?limit=2&offset=2')).body
    expect(byOffset.data).toHaveLength(2)
    expect(typeof byOffset.nextCursor).toBe('string')
  })

  it('a bad cursor, or a cursor with an offset, → 400 naming cursor', async () => {
    const { client } = await worker()
    await create(client, 'a')
    await create(client, 'b')
    const { nextCursor } = (await client.get('/api/conversations?limit=1')).body
    for (const query of ['cursor=***', `cursor=${Buffer.from('[1,2]').toString('base64url')}`, 'cursor=abc', `cursor=${nextCursor}&offset=1`]) {
      const res = await client.get(`/api/conversations?${query}`)
      expect(res.status, query).toBe(400)
      expect(res.body.message).toMatch(/^cursor\b/)
    }
    expect((await client.get(`/api/conversations?cursor=${nextCursor}&offset=0`)).status).toBe(200)
  })

  it('admin lists page by cursor too: a user\'s conversations and the users list', async () => {
    const admin = await signedIn(DEMO.admin)
    const { client, user } = await worker()
    for (let i = 0; i < 5; i++) await create(client, `a${i}`)
    const all = (await admin.get(`/api/admin/users/${user.id}/conversations?limit=100`)).body.data.map((c: any) => c.id)
    const seen: string[] = []
    let cursor: string | null = null
    do {
      const res: any = await admin.get(`/api/admin/users/${user.id}/conversations?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      expect(res.status).toBe(200)
      seen.push(...res.body.data.map((c: any) => c.id))
      cursor = res.body.nextCursor
    } while (cursor)
    expect(seen).toEqual(all)

    const everyone = (await admin.get('/api/admin/users?limit=100')).body
    const ids: string[] = []
    cursor = null
    do {
      const res: any = await admin.get(`/api/admin/users?limit=2${cursor ? `&cursor=${cursor}` : ''}`)
      expect(res.body.total).toBe(everyone.total)
      ids.push(...res.body.data.map((u: any) => u.id))
      cursor = res.body.nextCursor
    } while (cursor)
    expect(ids).toEqual(everyone.data.map((u: any) => u.id))
  })

  it('every list entry is the conversation exactly as GET /api/conversations/:id answers it (own list and the admin\'s)', async () => {
    const admin = await signedIn(DEMO.admin)
    const { client, user } = await worker()
    const plain = await create(client, 'plain')
    const pinned = await create(client, 'pinned «ñandú»')
    const archived = await create(client, 'archived')
    await client.patch(`/api/conversations/${pinned}`, { pinned: true })
    await client.patch(`/api/conversations/${archived}`, { archived: true })
    await chat(client, { conversationId: plain, message: 'hola' })
    const single = Object.fromEntries(await Promise.all([plain, pinned, archived].map(async id => [id, (await client.get(`/api/conversations/${id}`)).body])))
    expect(single[plain].messageCount).toBe(2)
    expect(single[pinned].pinned).toBe(true)
    expect(single[archived].archived).toBe(true)
    const own = (await client.get('/api/conversations?limit=10')).body
    const unarchived = (await client.get('/api/conversations?limit=10&archived=false')).body
    const ofUser = (await admin.get(`/api/admin/users/${user.id}/conversations?limit=10`)).body
    for (const list of [own, ofUser]) {
      expect(list.total).toBe(3)
      expect(list.data).toHaveLength(3)
      for (const entry of list.data) expect(entry).toStrictEqual(single[entry.id])
    }
    expect(unarchived.total).toBe(2)
    expect(unarchived.data.map((c: any) => c.id)).toEqual([pinned, plain])
    // the cursor of a one-entry page leads to the same entries as the full list
    const first = (await client.get('/api/conversations?limit=1')).body
    const rest = (await client.get(`/api/conversations?limit=10&cursor=${first.nextCursor}`)).body
    expect([...first.data, ...rest.data]).toStrictEqual(own.data)
  })
})

describe('conversation lists: stored message count', () => {
  it('messageCount follows new messages, a regenerated answer and a deleted message; tool calls are not counted', async () => {
    const { client } = await worker()
    const id = await chat(client, { message: 'uno' })
    await chat(client, { message: 'dos', conversationId: id })
    const countOf = async () => (await client.get('/api/conversations')).body.data.find((c: any) => c.id === id).messageCount
    expect(await countOf()).toBe(4)
    await chat(client, { conversationId: id, regenerate: true })
    expect(await countOf()).toBe(4)
    const [last] = await sql<{ id: string }>('select id from messages where conversation_id = ? order by created_at desc, id desc limit 1', [id])
    await sql('delete from messages where id = ?', [last!.id])
    expect(await countOf()).toBe(3)
    await sql('insert into messages (id, conversation_id, role, content, status, created_at) values (?, ?, ?, ?, ?, ?)',
      [crypto.randomUUID(), id, 'tool', '{}', 'complete', dbTime(new Date(), srv.db.url)])
    expect(await countOf()).toBe(3)
    expect((await client.get(`/api/conversations/${id}`)).body.messageCount).toBe(3)
  })
})

describe('conversation lists: stored conversation count (the `total`)', () => {
  it('every total equals a direct count after creating, archiving, SQL inserts and deletes, a reassignment and a user deleted with a transfer', async () => {
    const admin = await signedIn(DEMO.admin)
    const a = await worker()
    const b = await worker()
    const counted = async (userId: string, archived?: boolean) => Number((await sql<{ n: number | string }>(
      `select count(*) as n from conversations where user_id = ?${archived === undefined ? '' : ` and archived = ${archived ? 'true' : 'false'}`}`,
      [userId]))[0]!.n)
    const check = async (who: { client: Client, user: { id: string } }) => {
      const id = who.user.id
      for (const archived of [undefined, true, false]) {
        const filter = archived === undefined ? '' : `&archived=${archived}`
        expect((await who.client.get(`/api/conversations?limit=1${filter}`)).body.total, `archived=${archived}`).toBe(await counted(id, archived))
        // a page past the end has no rows to carry the total: it is read apart, and must be the same
        const past = (await who.client.get(`/api/conversations?limit=1&offset=1000${filter}`)).body
        expect(past.data, `archived=${archived}, past the end`).toEqual([])
        expect(past.total, `archived=${archived}, past the end`).toBe(await counted(id, archived))
      }
      expect((await admin.get(`/api/admin/users/${id}/conversations?limit=1`)).body.total).toBe(await counted(id))
      expect((await admin.get(`/api/admin/users/${id}/conversations?limit=1&offset=1000`)).body.total).toBe(await counted(id))
      expect((await admin.get(`/api/admin/users/${id}`)).body.conversationCount).toBe(await counted(id))
    }
    const ids = [await create(a.client, 'uno'), await create(a.client, 'dos'), await create(a.client, 'tres')]
    await check(a)
    expect((await a.client.patch(`/api/conversations/${ids[0]}`, { archived: true })).status).toBe(200)
    await check(a)
    // straight into the table (not through the app): the triggers keep the count all the same
    const raw = crypto.randomUUID()
    const now = dbTime(new Date(), srv.db.url)
    await sql('insert into conversations (id, user_id, title, model, pinned, archived, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)',
      [raw, a.user.id, 'sql', 'm', false, true, now, now])
    await check(a)
    expect((await a.client.request(`/api/conversations/${ids[1]}`, { method: 'DELETE' })).status).toBe(204)
    await sql('delete from conversations where id = ?', [raw])
    await check(a)
    expect((await admin.patch(`/api/admin/conversations/${ids[0]}/reassign`, { targetUserId: b.user.id })).status).toBe(200)
    await check(a)
    await check(b)
    expect((await admin.delete(`/api/admin/users/${a.user.id}?transferTo=${b.user.id}`)).status).toBe(204)
    await check(b)
    expect(await counted(b.user.id)).toBe(2)
    // ~80 requests and direct counts one after the other: 5 s on SQLite, but it ran past 30 s once on PostgreSQL
    // in CI (cause not found: slowness on a busy machine or a wait on a lock; see the session-9 note)
  }, 90_000)
})

describe('conversation search: full-text, accents both ways, snippets', () => {
  it('finds message text without accents or case, either way round, and word starts', async () => {
    const { client } = await worker()
    const accented = await chat(client, { message: 'Mañana viajo a Copiapó para revisar las energías renovables' })
    const plain = await chat(client, { message: 'COPIAPO queda en el norte' })
    await create(client, 'Informe de Ñuñoa')
    const ids = (body: any) => body.data.map((c: any) => c.id).sort()
    expect(ids(await search(client, 'copiapo'))).toEqual([accented, plain].sort())
    expect(ids(await search(client, 'Copiapó'))).toEqual([accented, plain].sort())
    expect(ids(await search(client, 'ENERGIA renovable'))).toEqual([accented])
    expect(ids(await search(client, 'copia'))).toEqual([accented, plain].sort())
    expect((await search(client, 'nunoa')).data.map((c: any) => c.title)).toEqual(['Informe de Ñuñoa'])
    expect((await search(client, 'ÑUÑOA')).total).toBe(1)
    expect((await search(client, 'arica')).total).toBe(0)
  })

  it('finds a word while it is typed, common words and stems alike, on both databases', async () => {
    const { client } = await worker()
    const id = await chat(client, { message: 'Las operaciones de mantención para los trabajadores como siempre' })
    const renewables = await chat(client, { message: 'Paneles solares y energías renovables' })
    const found = async (q: string) => (await search(client, q)).data.map((c: any) => c.id)
    // every prefix of a word finds it: PostgreSQL once stemmed the prefix ("operacione" → 'operacion', stored
    // 'oper') and dropped stop words ("para", "como") from the query, so these found nothing there
    for (const q of ['operacione', 'operaciones', 'trabajadore', 'mantencio', 'para', 'como', 'para los trabajadores'])
      expect(await found(q), q).toEqual([id])
    for (const q of ['renovabl', 'renovable', 'RENOVABLES energia']) expect(await found(q), q).toEqual([renewables])
    expect(await found('operacionesx')).toEqual([])
    const hit = (await search(client, 'para trabajadore')).data[0]
    const marked = hit.snippet.highlights.map(([start, end]: [number, number]) => hit.snippet.text.slice(start, end))
    expect(marked.sort()).toEqual(['para', 'trabajadores'])
  })

  it('each result carries a plain-text snippet with UTF-16 highlight ranges; null when only the title matched', async () => {
    const { client } = await worker()
    const id = await chat(client, { message: 'El informe <b>técnico</b> de Copiapó 👷 está listo' })
    await client.patch(`/api/conversations/${id}`, { title: 'Sin relación' })
    const titled = await create(client, 'Copiapó: presupuesto')
    const body = await search(client, 'copiapo')
    expect(body.total).toBe(2)
    const hit = body.data.find((c: any) => c.id === id)
    expect(Object.keys(hit.snippet).sort()).toEqual(['highlights', 'text'])
    expect(hit.snippet.text).toContain('<b>técnico</b>')
    expect(hit.snippet.text).not.toMatch(/[\u0002\u0003]/)
    expect(hit.snippet.highlights.length).toBeGreaterThan(0)
    for (const [start, end] of hit.snippet.highlights) expect(fold(hit.snippet.text.slice(start, end))).toBe('copiapo')
    expect(body.data.find((c: any) => c.id === titled).snippet).toBeNull()
    // no q, no snippet
    expect((await client.get('/api/conversations')).body.data[0]).not.toHaveProperty('snippet')
  })

  it('someone else\'s search stays within titles (#15 item 2); NUL in q → 400', async () => {
    const { client, user } = await worker()
    await chat(client, { message: 'la clave secreta es zanahoria' })
    const admin = await signedIn(DEMO.admin)
    expect((await search(client, 'zanahoria')).total).toBe(1)
    const other = (await admin.get(`/api/conversations?userId=${user.id}&q=zanahoria`)).body
    expect(other.total).toBe(0)
    expect((await client.get(`/api/conversations?q=${encodeURIComponent('a\u0000b')}`)).status).toBe(400)
  })
})

describe('admin stats from rollups', () => {
  const direct = async (from: Date) => {
    const [row] = await sql<Record<string, unknown>>(
      `select sum(case when m.role in ('user', 'assistant') then 1 else 0 end) as n, coalesce(sum(m.prompt_tokens), 0) as p, coalesce(sum(m.completion_tokens), 0) as c, count(distinct c.user_id) as u from messages m join conversations c on c.id = m.conversation_id where m.created_at >= ?`,
      [dbTime(from, srv.db.url)])
    const latencies = (await sql<{ ms: unknown }>(`select first_token_ms as ms from messages where role = 'assistant' and first_token_ms is not null and created_at >= ?`, [dbTime(from, srv.db.url)]))
      .map(r => Number(r.ms)).sort((a, b) => a - b)
    const median = latencies.length ? Math.round((latencies[Math.floor((latencies.length - 1) / 2)]! + latencies[Math.floor(latencies.length / 2)]!) / 2) : null
    return { messages: Number(row!.n), tokens: Number(row!.p) + Number(row!.c), activeUsers: Number(row!.u), medianFirstTokenMs: median }
  }

  it('totals equal a direct count of the messages, after chats, a reassignment and a deletion', async () => {
    const admin = await signedIn(DEMO.admin)
    const a = await worker()
    const b = await worker()
    const first = await chat(a.client, { message: 'hola' })
    await chat(a.client, { message: 'otra', conversationId: first })
    const second = await chat(b.client, { message: 'buenas' })
    const check = async () => {
      const stats = (await admin.get('/api/admin/stats?days=30')).body
      const expected = await direct(new Date(stats.from))
      expect(stats.totals).toMatchObject(expected)
      expect(stats.data.reduce((n: number, d: any) => n + d.messages, 0)).toBe(expected.messages)
      return stats
    }
    await eventually(async () => (await sql('select 1 from messages where conversation_id = ? and role = ?', [second, 'assistant'])).length > 0)
    const before = await check()
    expect((await admin.patch(`/api/admin/conversations/${first}/reassign`, { targetUserId: b.user.id })).status).toBe(200)
    await check()
    expect((await b.client.request(`/api/conversations/${first}`, { method: 'DELETE' })).status).toBe(204)
    const after = await check()
    expect(after.totals.messages).toBe(before.totals.messages - 4)
  }, 120_000) // three chats and six stats reads: 4 s on a quiet machine, over 30 s at load average 50
})
