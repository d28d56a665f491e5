import { createClient } from '@libsql/client'
import Database from 'libsql'
import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type HandWritten, pgHandWritten, pgText, type Query, sqliteHandWritten } from '../../server/db/hand-written'
import { createTestDatabase, type TestDatabase } from '../support/server'

// The group commit's transactions (server/db/group-commit.ts) run through the hand-written path with prepared
// statements kept per connection: a failed statement must undo its whole commit and leave nothing open behind it
// (no transaction, no lock, no half-run statement), or every later write of the process would fail or wait.

const kind = inject('dbKind')
let db: TestDatabase
let hand: HandWritten
let close: () => Promise<void>

const text = (query: string) => (kind === 'pg' ? pgText(query) : query)
const q = (query: string, ...args: unknown[]): Query => ({ text: text(query), args })
const count = async (table: string) => Number((await hand.read(`select count(*) from ${table}`, []))[0]![0])

beforeAll(async () => {
  db = await createTestDatabase(kind, { empty: true })
  const ddl = [
    'create table parents (id text primary key)',
    'create table children (id text primary key, parent_id text not null references parents(id), note text)',
  ]
  if (kind === 'pg') {
    const client = postgres(db.url, { max: 2, onnotice: () => {} })
    for (const statement of ddl) await client.unsafe(statement)
    hand = pgHandWritten(client)
    close = () => client.end({ timeout: 5 })
  }
  else {
    const client = createClient({ url: db.url })
    for (const statement of ddl) await client.execute(statement)
    hand = sqliteHandWritten(db.url, client)
    close = async () => { hand.close(); client.close() }
  }
})
afterAll(async () => {
  await close?.()
  await db?.drop()
})

describe(`hand-written commits (${kind})`, () => {
  it('commits every statement of a commit together', async () => {
    await hand.commit([q('insert into parents (id) values (?)', 'p1'), q('insert into children (id, parent_id, note) values (?, ?, ?)', 'c1', 'p1', 'first')])
    expect(await hand.read('select id, parent_id, note from children where id = ?', ['c1'])).toEqual([['c1', 'p1', 'first']])
  })

  it('a failing statement undoes the statements before it in its commit, and the same statements then run again', async () => {
    const parents = await count('parents')
    const failing = [
      q('insert into parents (id) values (?)', 'p2'),
      q('insert into children (id, parent_id, note) values (?, ?, ?)', 'c2', 'no such parent', null),
    ]
    const error = await hand.commit(failing).then(() => undefined, (e: unknown) => e as { code?: string })
    expect(error?.code).toBe(kind === 'pg' ? '23503' : 'SQLITE_CONSTRAINT_FOREIGNKEY')
    expect(await count('parents')).toBe(parents)
    // the same texts (cached statements) on the same connection: nothing was left open by the failure
    await hand.commit([q('insert into parents (id) values (?)', 'p2'), q('insert into children (id, parent_id, note) values (?, ?, ?)', 'c2', 'p2', null)])
    expect(await count('parents')).toBe(parents + 1)
    expect(await hand.read('select parent_id from children where id = ?', ['c2'])).toEqual([['p2']])
  })

  it('a statement failing in the middle: its own error is the one thrown, and neither side of it lands', async () => {
    const parents = await count('parents')
    const failing = [
      q('insert into parents (id) values (?)', 'p7'),
      q('insert into children (id, parent_id, note) values (?, ?, ?)', 'c7', 'no such parent', null),
      q('insert into parents (id) values (?)', 'p8'),
    ]
    // on PostgreSQL the statements are pipelined: the one after the failure fails too, as "transaction aborted"
    // (25P02), and that must not be the error the caller sees
    await expect(hand.commit(failing)).rejects.toMatchObject({ code: kind === 'pg' ? '23503' : 'SQLITE_CONSTRAINT_FOREIGNKEY' })
    expect(await count('parents')).toBe(parents)
    expect(await hand.read('select id from parents where id in (?, ?)', ['p7', 'p8'])).toEqual([])
  })

  // a group commit of ten chats is 20 statements: one round trip each would queue every chat's first token behind
  // them (bench/README "session 16"); they are sent together, the next before the previous one has answered
  if (kind === 'pg') it('sends a commit\'s statements together (pipelined), not each after the previous answer', async () => {
    const sent = new Map<string, number>()
    const client = postgres(db.url, { max: 1, onnotice: () => {}, debug: (_id, query) => { if (!sent.has(query)) sent.set(query, performance.now()) } })
    try {
      await pgHandWritten(client).commit([
        q('select pg_sleep(0.5)'),
        q('insert into parents (id) values (?)', 'p9'),
      ])
      const sleep = sent.get('select pg_sleep(0.5)')!
      const insert = sent.get(pgText('insert into parents (id) values (?)'))!
      // one after the other it would be sent once the sleep had answered, ≥ 500 ms later
      expect(insert - sleep).toBeLessThan(250)
      expect(await hand.read('select id from parents where id = ?', ['p9'])).toEqual([['p9']])
    }
    finally { await client.end({ timeout: 5 }) }
  })

  // (PostgreSQL: postgres.js's `begin` rolls back and releases its connection on any error)
  if (kind === 'sqlite') it('a failed commit holds no lock: another connection takes the write lock at once', async () => {
    await expect(hand.commit([q('insert into parents (id) values (?)', 'p1')])).rejects.toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' })
    const other = new Database(db.url.slice('file:'.length), { timeout: 0 })
    try {
      other.exec('BEGIN IMMEDIATE')
      other.exec('ROLLBACK')
    }
    finally { other.close() }
  })

  // a commit that waits for the write lock, or for its fsync, holds no request: it runs on a thread of its own
  if (kind === 'sqlite') it('a commit waiting for the write lock lets the event loop run meanwhile', async () => {
    const other = new Database(db.url.slice('file:'.length), { timeout: 0 })
    try {
      other.exec('BEGIN IMMEDIATE')
      let done = false
      const commit = hand.commit([q('insert into parents (id) values (?)', 'p4')]).then(() => { done = true })
      // the lock is held on this thread: a commit run here would wait out its busy timeout before anything else ran
      await new Promise(resolve => setTimeout(resolve, 50))
      expect(done).toBe(false)
      other.exec('ROLLBACK')
      await commit
      expect(await hand.read('select id from parents where id = ?', ['p4'])).toEqual([['p4']])
    }
    finally { other.close() }
  })

  // shutdown closes the connections: an answer's save still in flight then must land, not die with the thread
  if (kind === 'sqlite') it('closing lets the commits in flight finish, and a later commit starts the thread again', async () => {
    const inFlight = hand.commit([q('insert into parents (id) values (?)', 'p5')])
    await hand.close()
    await inFlight
    await hand.commit([q('insert into parents (id) values (?)', 'p6')])
    expect(await hand.read('select id from parents where id in (?, ?) order by id', ['p5', 'p6'])).toEqual([['p5'], ['p6']])
  })

  it('runs a statement with RETURNING inside a commit', async () => {
    await hand.commit([q('insert into parents (id) values (?) returning id', 'p3'), q('update children set note = ? where parent_id = ? returning id', 'changed', 'p1')])
    expect(await hand.read('select note from children where id = ?', ['c1'])).toEqual([['changed']])
    expect(await count('parents')).toBeGreaterThanOrEqual(3)
  })
})
