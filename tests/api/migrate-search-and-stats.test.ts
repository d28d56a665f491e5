import { uuidv7 } from 'uuidv7'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { dbTime } from '../support/db'
import { Client, DEMO } from '../support/http'
import { migrationsUpTo } from '../support/migrations'
import { startRedis } from '../support/redis'
import { createTestDatabase, redisServerPath, startServer } from '../support/server'
import { sqlRun } from './admin-support'

// Two migrations that rebuild what is already stored, checked on a database written before them:
// - search (PostgreSQL 0012): each message's whole words join its search vector beside the Spanish stems (the stored
//   vectors rebuilt in the background after start-up, in batches), so a message written before is found by a word
//   typed part way ("operacione", whose stem is longer than the stored 'oper') and by a stop word ("para"); SQLite's
//   FTS5 indexes words whole and must find them too;
// - stats (SQLite 0012, PostgreSQL 0013): usage_daily counted tool-call rows as messages; the stored counts are
//   rebuilt with only the user's and the assistant's messages;
// - verified phones (SQLite 0013, PostgreSQL 0014): a number verified on several accounts stays verified on the
//   first, before the unique index is made.

const kind = inject('dbKind')
const cleanups: Array<() => Promise<void> | void> = []
afterAll(async () => { for (const cleanup of cleanups.reverse()) await cleanup() })

describe('upgrading a database with messages: search words, stats counts and verified phones', () => {
  it('a message saved before is found by a part-typed word and a stop word; its tool call is no longer counted', async () => {
    const db = await createTestDatabase(kind, { empty: true }) // migrated below only to 0011, by hand
    cleanups.push(() => db.drop())
    const before = await startServer({ DATABASE_URL: db.url, MIGRATIONS_DIR: migrationsUpTo(kind, 11, remove => cleanups.push(remove)) })
    const count = await sqlRun<{ n: unknown }>(kind === 'pg' ? `select count(*) as n from pg_ts_config where cfgname = 'energy_simple'` : `select 0 as n`, [], db.url)
    expect(Number(count[0]!.n)).toBe(0)
    cleanups.push(async () => { await before.stop() })
    const [worker] = await sqlRun<{ id: string }>('select id from users where email = ?', [DEMO.worker.email], db.url)
    const conversation = uuidv7()
    const at = dbTime(new Date(Date.now() - 60_000), db.url)
    await sqlRun('insert into conversations (id, user_id, title, model, pinned, archived, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)',
      [conversation, worker!.id, 'Antes de 0012', 'qwen2.5:3b-instruct', false, false, at, at], db.url)
    const rows: Array<[string, string]> = [['user', 'Revisar las operaciones para el turno de noche'],
      ['tool', JSON.stringify({ round: 1, name: 'list_my_reports', arguments: {}, result: { reports: [] } })], ['assistant', 'Listo.']]
    for (const [i, [role, content]] of rows.entries()) {
      await sqlRun('insert into messages (id, conversation_id, role, content, status, created_at) values (?, ?, ?, ?, ?, ?)',
        [uuidv7(), conversation, role, content, 'complete', dbTime(new Date(Date.now() - 60_000 + i), db.url)], db.url)
    }
    const statsOf = async (url: string) => {
      const admin = new Client(url)
      await admin.login(DEMO.admin.email, DEMO.admin.password)
      return (await admin.get('/api/admin/stats?days=2')).body.totals.messages
    }
    expect(await statsOf(before.url)).toBe(3) // what 0011 counted
    // one number verified on two accounts (the race two processes could win before the unique index): the first
    // verification keeps it
    const [supervisor] = await sqlRun<{ id: string }>('select id from users where email = ?', [DEMO.supervisor.email], db.url)
    const shared = '+56912312312'
    for (const [id, ago] of [[supervisor!.id, 1_000], [worker!.id, 5_000]] as const)
      await sqlRun('update users set phone = ?, phone_verified_at = ? where id = ?', [shared, dbTime(new Date(Date.now() - ago), db.url), id], db.url)
    if (kind === 'pg') {
      // more than one batch of the background rebuild (1,000 messages each), in a second conversation
      const bulk = uuidv7()
      await sqlRun('insert into conversations (id, user_id, title, model, pinned, archived, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)',
        [bulk, worker!.id, 'Muchos mensajes', 'qwen2.5:3b-instruct', false, false, at, at], db.url)
      await sqlRun(`insert into messages (id, conversation_id, role, content, status, created_at)
        select gen_random_uuid()::text, ?, 'user', 'mensaje ' || n || case when n = 2345 then ' sobre transformadores' else '' end, 'complete', now()
        from generate_series(1, 2500) n`, [bulk], db.url)
    }
    await before.stop()

    // on PostgreSQL, where a redis-server is at hand (CI), two processes start together: they migrate once and take
    // turns at the rebuild's batches (several processes on one database share Redis)
    const redis = kind === 'pg' && redisServerPath() ? await startRedis() : undefined
    if (redis) cleanups.push(() => redis.stop())
    const env = { DATABASE_URL: db.url, ...(redis ? { REDIS_URL: redis.url } : {}) }
    const [after, second] = await Promise.all([startServer(env), redis ? startServer(env) : undefined])
    cleanups.push(async () => { await after.stop() }, async () => { await second?.stop() })
    const client = new Client(after.url)
    await client.login(DEMO.worker.email, DEMO.worker.password)
    // PostgreSQL rebuilds the stored vectors in the background after start-up (the cursor row goes when done)
    if (kind === 'pg') await expect.poll(async () => (await sqlRun('select after from search_rebuild', [], db.url)).length, { timeout: 60_000 }).toBe(0)
    for (const q of ['operacione', 'para el turno', 'operaciones']) {
      const res = await client.get(`/api/conversations?q=${encodeURIComponent(q)}`)
      expect(res.status, q).toBe(200)
      expect(res.body.data.map((c: any) => c.id), q).toEqual([conversation])
      expect(res.body.data[0].snippet.text, q).toContain('operaciones para el turno')
    }
    expect(await statsOf(after.url)).toBe(kind === 'pg' ? 2502 : 2)
    const verified = await sqlRun<{ id: string }>('select id from users where phone = ? and phone_verified_at is not null', [shared], db.url)
    expect(verified.map(u => u.id)).toEqual([worker!.id])
    expect(await sqlRun('select id from users where phone = ?', [shared], db.url)).toHaveLength(2)
    if (kind === 'pg') {
      const bulk = (await client.get(`/api/conversations?q=${encodeURIComponent('transformadore')}`)).body
      expect(bulk.data.map((c: any) => c.title)).toEqual(['Muchos mensajes'])
      expect(bulk.data[0].snippet.text).toContain('mensaje 2345 sobre transformadores')
    }
  })
})
