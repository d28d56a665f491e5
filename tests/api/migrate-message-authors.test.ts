import { uuidv7 } from 'uuidv7'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { dbTime } from '../support/db'
import { Client, DEMO } from '../support/http'
import { migrationsUpTo } from '../support/migrations'
import { createTestDatabase, type RunningServer, startServer, type TestDatabase } from '../support/server'
import { sqlRun } from './admin-support'

// Migration "message_authors" (SQLite 0014, PostgreSQL 0015) gives every existing user message the owner its
// conversation had when the message was sent: the `from` of the first `conversation.reassigned` event after it,
// else the current owner; a writer whose account is gone is null. A database migrated up to the migration before
// gets conversations moved back and forth, then the server starts with every migration, and the admin reader names
// each question's writer.

const kind = inject('dbKind')
const BEFORE = kind === 'pg' ? 14 : 13
const GONE = '01890000-0000-7000-8000-00000000dead'
const cleanups: Array<() => Promise<void> | void> = []
afterAll(async () => { for (const cleanup of cleanups.reverse()) await cleanup() })

async function started(db: TestDatabase, env: Record<string, string> = {}) {
  const server: RunningServer = await startServer({ DATABASE_URL: db.url, ...env })
  cleanups.push(async () => { await server.stop() })
  return server
}

describe('migration message_authors: existing user messages get their writer', () => {
  it('by the reassignments in the audit log, the current owner otherwise, null for a deleted account', async () => {
    const db = await createTestDatabase(kind, { empty: true })
    cleanups.push(() => db.drop())
    const before = await started(db, { MIGRATIONS_DIR: migrationsUpTo(kind, BEFORE, remove => cleanups.push(remove)) })
    const columns = kind === 'pg'
      ? `select count(*) as n from information_schema.columns where table_name = 'messages' and column_name = 'author_id'`
      : `select count(*) as n from pragma_table_info('messages') where name = 'author_id'`
    expect(Number((await sqlRun<{ n: unknown }>(columns, [], db.url))[0]!.n)).toBe(0)

    const people = Object.fromEntries(await Promise.all(Object.entries(DEMO).map(async ([role, { email }]) =>
      [role, (await sqlRun<{ id: string, full_name: string }>('select id, full_name from users where email = ?', [email], db.url))[0]!])))
    const ana = people.worker!
    const beto = people.supervisor!
    const t0 = Date.now() - 3_600_000
    const at = (minutes: number) => dbTime(new Date(t0 + minutes * 60_000), db.url)

    /** A conversation now owned by `owner`, its messages as [role, minute], and its moves as [from, to, minute]. */
    async function conversation(owner: string, messages: Array<['user' | 'assistant', number]>, moves: Array<[string, string, number]>) {
      const id = uuidv7()
      await sqlRun('insert into conversations (id, user_id, title, model, pinned, archived, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)',
        [id, owner, 'Antes de la migración', 'qwen2.5:3b-instruct', false, false, at(0), at(0)], db.url)
      for (const [i, [role, minute]] of messages.entries()) {
        await sqlRun('insert into messages (id, conversation_id, role, content, status, model, created_at) values (?, ?, ?, ?, ?, ?, ?)',
          [uuidv7(), id, role, `${role} ${i}`, 'complete', role === 'assistant' ? 'qwen2.5:3b-instruct' : null, at(minute)], db.url)
      }
      for (const [from, to, minute] of moves) {
        await sqlRun('insert into audit_events (id, at, actor_id, action, target_type, target_id, meta) values (?, ?, ?, ?, ?, ?, ?)',
          [uuidv7(), at(minute), people.admin!.id, 'conversation.reassigned', 'conversation', id, kind === 'pg' ? { from, to } : JSON.stringify({ from, to })], db.url)
      }
      return id
    }
    const neverMoved = await conversation(ana.id, [['user', 1], ['assistant', 2], ['user', 3]], [])
    const movedOnce = await conversation(beto.id, [['user', 1], ['assistant', 2], ['user', 5]], [[ana.id, beto.id, 4]])
    const thereAndBack = await conversation(ana.id, [['user', 1], ['user', 5], ['user', 9]], [[ana.id, beto.id, 4], [beto.id, ana.id, 8]])
    const fromGone = await conversation(beto.id, [['user', 1], ['user', 5]], [[GONE, beto.id, 4]])
    await before.stop()

    const after = await started(db)
    const admin = new Client(after.url)
    await admin.login(DEMO.admin.email, DEMO.admin.password)
    const authors = async (id: string) => {
      const res = await admin.get(`/api/admin/conversations/${id}/messages`)
      expect(res.status).toBe(200)
      return res.body.data.map((m: any) => ('author' in m ? m.author : 'owner'))
    }
    const anaAuthor = { id: ana.id, fullName: ana.full_name }
    const betoAuthor = { id: beto.id, fullName: beto.full_name }
    expect(await authors(neverMoved)).toEqual(['owner', 'owner', 'owner'])
    expect(await authors(movedOnce)).toEqual([anaAuthor, 'owner', 'owner'])
    expect(await authors(thereAndBack)).toEqual(['owner', betoAuthor, 'owner'])
    expect(await authors(fromGone)).toEqual([null, 'owner'])
    // the model's rows get no writer
    const assistants = await sqlRun<{ n: unknown }>(`select count(*) as n from messages where role = 'assistant' and author_id is not null`, [], db.url)
    expect(Number(assistants[0]!.n)).toBe(0)
  })
})
