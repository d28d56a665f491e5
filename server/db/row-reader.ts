import Database from 'libsql'
import type { Client } from '@libsql/client'
import type { Sql } from 'postgres'

/**
 * Positional rows of a hand-written read query, for the hottest read paths (the conversation lists). Through
 * drizzle and @libsql/client a 51-row page cost more in row objects than in SQL: @libsql/client prepares every
 * statement anew and defines two properties per column per row (`rowFromSql`, ~17 % of the list's CPU), then
 * drizzle maps them again. Here SQLite statements are prepared once per connection and read as arrays; on
 * PostgreSQL postgres.js's named prepared statements return arrays (`.values()`).
 *
 * `text` uses `?` placeholders in both dialects (numbered for PostgreSQL here); arguments must already be in the
 * dialect's form (see `driverValue`). Read values with `Number()`/`String()`/`jsonValue`: their JavaScript types
 * differ between the dialects (a `count(*)` is a number on SQLite, a string from postgres.js).
 */
export type RowReader = ((text: string, args: readonly unknown[]) => Promise<unknown[][]>) & { close: () => void }

/** SQLite: the file's own connection (WAL: it reads what other connections committed), statements cached. */
export function sqliteRowReader(url: string, client: Client): RowReader {
  const path = filePath(url)
  if (!path) return Object.assign(async (text: string, args: readonly unknown[]) => (await client.execute({ sql: text, args: args as never })).rows.map(row => Array.from(row)), { close: () => {} })
  let db: Database.Database | undefined
  const statements = new Map<string, Database.Statement>()
  const read = async (text: string, args: readonly unknown[]) => {
    db ??= new Database(path, { timeout: 5000 })
    let statement = statements.get(text)
    if (!statement) statements.set(text, statement = db.prepare(text).raw(true))
    return statement.all(...args) as unknown[][]
  }
  return Object.assign(read, { close: () => { db?.close(); db = undefined; statements.clear() } })
}

/** The file path of a plain `file:` URL; undefined for anything the native driver should not open by itself. */
function filePath(url: string) {
  if (!url.startsWith('file:') || url.includes('?') || url.includes(':memory:')) return undefined
  const rest = url.slice('file:'.length)
  return rest.startsWith('//') ? rest.slice(2) : rest
}

/**
 * PostgreSQL: the app's postgres.js client; `?` become `$1, $2…` (once per text). Rows as postgres.js parses them:
 * wrapping the query in `json_agg` to read one JSON text instead was tried (bench/README "branch pglist") and cost
 * the database more than it saved here.
 */
export function pgRowReader(client: Sql): RowReader {
  const numbered = new Map<string, string>()
  const read = async (text: string, args: readonly unknown[]) => {
    let query = numbered.get(text)
    if (!query) {
      let n = 0
      numbered.set(text, query = text.replace(/\?/g, () => `$${++n}`))
    }
    return await client.unsafe(query, args as never[], { prepare: true }).values() as unknown[][]
  }
  // the client is the app's: closed with it
  return Object.assign(read, { close: () => {} })
}
