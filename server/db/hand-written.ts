import Database from 'libsql'
import type { Client, InStatement } from '@libsql/client'
import type { Sql } from 'postgres'
import { sqliteWriter } from './sqlite-writer'

/**
 * Hand-written statements for the hot paths: reads of positional rows (the conversation lists) and the writes of
 * the group commit (server/db/group-commit.ts: every chat message and answer). Through drizzle and @libsql/client a
 * 51-row page cost more in row objects than in SQL, and an answer's writes cost more in building and preparing
 * statements than in running them: @libsql/client prepares every statement anew and defines two properties per
 * column per row (`rowFromSql`, ~17 % of the list's CPU), and drizzle builds each query's text again on every call
 * (bench/README.md "session 14"). Here SQLite statements are prepared once per connection; on PostgreSQL
 * postgres.js's named prepared statements return arrays (`.values()`).
 *
 * Texts use `?` placeholders in both dialects (numbered for PostgreSQL here, `pgText`); arguments must already be in
 * the dialect's form (see `driverValue`). Read values with `Number()`/`String()`/`jsonValue`: their JavaScript types
 * differ between the dialects (a `count(*)` is a number on SQLite, a string from postgres.js).
 */
export interface HandWritten {
  /** Positional rows of one read. */
  read: (text: string, args: readonly unknown[]) => Promise<unknown[][]>
  /** Runs the statements in one transaction (all or nothing); texts already in the dialect's placeholders. */
  commit: (statements: readonly Query[]) => Promise<void>
  close: () => Promise<void>
}

/** A statement with its arguments in the driver's form. */
export interface Query { text: string, args: readonly unknown[] }

/**
 * SQLite: reads on the file's own native connection (WAL: it reads what other connections committed), statements
 * cached; commits on the writer thread's connection (server/db/sqlite-writer.ts), BEGIN IMMEDIATE … COMMIT there,
 * so that no transaction is ever open across an await here (why: server/db/group-commit.ts) and the fsync holds no
 * request. A failed statement leaves nothing open: a write stops at its error, the commit is rolled back, and the
 * native driver resets a statement before each run.
 */
export function sqliteHandWritten(url: string, client: Client): HandWritten {
  const path = filePath(url)
  if (!path) {
    return {
      read: async (text, args) => (await client.execute({ sql: text, args: args as never })).rows.map(row => Array.from(row)),
      commit: async (statements) => { await client.batch(statements.map(({ text, args }) => ({ sql: text, args }) as InStatement), 'write') },
      close: async () => {},
    }
  }
  let db: Database.Database | undefined
  const readers = new Map<string, Database.Statement>()
  const writer = sqliteWriter(path)
  return {
    async read(text, args) {
      db ??= new Database(path, { timeout: 5000 })
      let statement = readers.get(text)
      if (!statement) readers.set(text, statement = db.prepare(text).raw(true))
      return statement.all(...args) as unknown[][]
    },
    commit: statements => writer.commit(statements),
    async close() {
      db?.close()
      db = undefined
      readers.clear()
      await writer.close()
    },
  }
}

/** The file path of a plain `file:` URL; undefined for anything the native driver should not open by itself. */
function filePath(url: string) {
  if (!url.startsWith('file:') || url.includes('?') || url.includes(':memory:')) return undefined
  const rest = url.slice('file:'.length)
  return rest.startsWith('//') ? rest.slice(2) : rest
}

const numbered = new Map<string, string>()
/** A `?`-placeholder text in PostgreSQL's `$1, $2…` (once per text). */
export function pgText(text: string) {
  let query = numbered.get(text)
  if (!query) {
    let n = 0
    numbered.set(text, query = text.replace(/\?/g, () => `$${++n}`))
  }
  return query
}

/**
 * PostgreSQL: the app's postgres.js client. Rows as postgres.js parses them: wrapping the query in `json_agg` to read
 * one JSON text instead was tried (bench/README "branch pglist") and cost the database more than it saved here.
 */
export function pgHandWritten(client: Sql): HandWritten {
  return {
    read: async (text, args) => await client.unsafe(pgText(text), args as never[], { prepare: true }).values() as unknown[][],
    // The statements are pipelined: all sent at once after BEGIN, then COMMIT; a group commit of ten chats is three
    // round trips instead of twenty-two (bench/README "session 16"). postgres.js's `begin` runs an array it is given
    // with Promise.all; PostgreSQL runs the statements in order, and after a failing one the rest fail as "current
    // transaction is aborted": the first error (the failing statement's) is the one thrown, and the whole is rolled back.
    async commit(statements) {
      await client.begin(tx => statements.map(({ text, args }) => tx.unsafe(text, args as never[], { prepare: true })))
    },
    // the client is the app's: closed with it
    close: async () => {},
  }
}
