import { type Database, inBackgroundWork, useConnection } from './client'
import { pgText, type Query } from './hand-written'
import { dialect } from './schema'

/**
 * Group commit: writes that arrive together (a burst of chat messages, answers finishing at once) are committed in
 * one transaction, so N callers pay one commit (one fsync of the WAL) instead of N, queued one behind the other.
 *
 * - Each caller passes a `build(db)` that returns its statements (pure: it may be called twice) and gets its own
 *   promise: resolved once its statements are committed, rejected with its own error. When a combined commit
 *   fails, each caller's statements are retried alone, so one bad write (a deleted conversation's foreign key)
 *   never fails its neighbours.
 * - Statements are drizzle's or hand-written (`Write`: the chat's writes, server/services/chat-writes.ts); both run
 *   as text through the connection's hand-written path (server/db/hand-written.ts), whose statements are prepared
 *   once.
 * - SQLite (libSQL): BEGIN IMMEDIATE … COMMIT, run on the writer thread (server/db/sqlite-writer.ts) in one go, so
 *   no transaction is ever open across an await of the main thread: an interactive libSQL transaction there holds
 *   the write lock while other microtasks run, and any other write of the main thread then busy-waits on that lock
 *   *synchronously* (freezing the event loop, so the transaction itself cannot finish) until the 5 s busy timeout.
 * - PostgreSQL: one transaction whose only awaits are its own statements (postgres.js's `begin`).
 * - Batching is by arrival: writes queued while a commit is running (or in the same turn of the event loop) go in
 *   the next one. A lone write is committed at once (after the current turn's I/O callbacks, not a timer).
 */

type Tx = Parameters<Parameters<Database['transaction']>[0]>[0]
export type Db = Database | Tx
/** A hand-written statement: `?` placeholders, arguments in the driver's form (`driverValue`). */
export interface Write { text: string, args: readonly unknown[] }
export type Statement = Parameters<Database['batch']>[0][number] | Write
export type BuildStatements = (db: Db) => Statement[]

/** A statement as text in the dialect's placeholders: drizzle's as it builds it, a `Write` numbered on PostgreSQL. */
function query(statement: Statement): Query {
  if ('text' in statement) return dialect === 'pg' ? { text: pgText(statement.text), args: statement.args } : statement
  // every drizzle query builder (insert, update, delete, select) renders itself; BatchItem's type also admits raw runs
  const { sql, params } = (statement as unknown as { toSQL: () => { sql: string, params: unknown[] } }).toSQL()
  return { text: sql, args: params }
}

/** `background`: queued by the job worker (on PostgreSQL a group of only such writes commits on the worker's pool). */
interface Pending { build: BuildStatements, background: boolean, resolve: () => void, reject: (error: unknown) => void }

/** At most this many callers in one transaction (a larger burst is committed in several). */
export const GROUP_COMMIT_MAX = 64

let queue: Pending[] = []
let scheduled = false
let running = false
/** Counters for tests and benches: commits run, and callers served. */
export const groupCommitStats = { commits: 0, writes: 0, largest: 0 }

async function commitStatements(builds: BuildStatements[], background: boolean) {
  // a request's write never waits for the worker's pool (db/client.ts), whoever's write started this flush
  const { db, handWritten } = useConnection(background)
  const statements = builds.flatMap(build => build(db)).map(query)
  if (statements.length) await handWritten.commit(statements)
}

async function flush() {
  scheduled = false
  if (running) return // the running flush picks the queue up when it ends
  running = true
  try {
    while (queue.length) {
      const group = queue.slice(0, GROUP_COMMIT_MAX)
      queue = queue.slice(group.length)
      groupCommitStats.commits++
      groupCommitStats.writes += group.length
      groupCommitStats.largest = Math.max(groupCommitStats.largest, group.length)
      try {
        await commitStatements(group.map(p => p.build), group.every(p => p.background))
        for (const p of group) p.resolve()
      }
      catch (error) {
        if (group.length === 1) { group[0]!.reject(error); continue }
        // someone's write failed the whole group: commit each alone, each caller gets its own outcome
        for (const p of group) await commitStatements([p.build], p.background).then(p.resolve, p.reject)
      }
    }
  }
  finally {
    running = false
  }
}

/** Commits `build`'s statements all-or-nothing, together with whatever other writes are waiting. */
export function groupCommit(build: BuildStatements): Promise<void> {
  return new Promise((resolve, reject) => {
    queue.push({ build, background: inBackgroundWork(), resolve, reject })
    if (!scheduled && !running) {
      scheduled = true
      setImmediate(() => void flush())
    }
  })
}
