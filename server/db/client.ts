import { AsyncLocalStorage } from 'node:async_hooks'
import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { createClient } from '@libsql/client'
import type { SQL } from 'drizzle-orm'
import { drizzle as drizzleLibsql, type LibSQLDatabase } from 'drizzle-orm/libsql'
import { drizzle as drizzlePg } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { useConfig } from '../utils/config'
import { boundedBackoff, boundedSocketFactory } from './pg-socket'
import { type HandWritten, pgHandWritten, sqliteHandWritten } from './hand-written'
import { dialect, schema } from './schema'

export type Database = LibSQLDatabase<typeof schema>

interface Connection { db: Database, handWritten: HandWritten, close: () => Promise<void>, ping: () => Promise<void> }

/** Opens the database named by the URL; the two drivers are hidden behind one drizzle type. */
export function connect(url: string, poolSize = 10, connectTimeoutMs = 5000): Connection {
  if (dialect === 'pg') {
    // a query waits at most connectTimeoutMs for a connection, then fails as unavailable (→ 503): db/pg-socket.ts.
    // (`socket` is documented, README "Custom socket", but missing from postgres.js's types: hence no inline literal)
    const options = {
      max: poolSize,
      onnotice: () => {},
      connect_timeout: connectTimeoutMs / 1000,
      socket: boundedSocketFactory(connectTimeoutMs),
      backoff: boundedBackoff(connectTimeoutMs),
    }
    const client = postgres(url, options)
    const db = drizzlePg(client, { schema: schema as never }) as unknown as Database
    return { db, handWritten: pgHandWritten(client), close: () => client.end({ timeout: 5 }), ping: async () => { await client`select 1` } }
  }
  if (url.startsWith('file:')) mkdirSync(dirname(resolve(url.slice('file:'.length))), { recursive: true })
  const client = sqliteClient(url)
  const db = drizzleLibsql(client, { schema })
  const handWritten = sqliteHandWritten(url, client)
  return {
    db,
    handWritten,
    close: async () => { await handWritten.close(); client.close() },
    ping: async () => { await client.execute('select 1') },
  }
}

/**
 * The libSQL client: pooled connections wait (up to 5 s, busy_timeout) for the write lock instead of failing with
 * SQLITE_BUSY — and batches begin IMMEDIATE, taking the write lock first. drizzle's `db.batch` asks libSQL for
 * BEGIN DEFERRED: a batch that reads first and then writes must upgrade its read lock, SQLite refuses that at once
 * (no busy wait: waiting could deadlock) whenever another process holds the write lock or committed since the read,
 * and libSQL then leaves the failed statement un-reset: the connection keeps its old snapshot, so every later write
 * on it fails at once with SQLITE_BUSY until the statement is garbage-collected (the split web + worker processes
 * on one file: the likely cause of ~100 s of failing claims in bench/README "SQLite, split"). Interactive transactions already default
 * to IMMEDIATE ('write').
 */
export function sqliteClient(url: string, timeoutMs = 5000) {
  const client = createClient({ url, timeout: timeoutMs })
  const batch = client.batch.bind(client)
  const execute = client.execute.bind(client) as (...args: unknown[]) => ReturnType<typeof client.execute>
  client.batch = async (statements, mode = 'write') => {
    if (backgroundWork) await yieldToIo()
    return batch(statements, mode)
  }
  client.execute = (async (...args: unknown[]) => {
    if (backgroundWork) await yieldToIo()
    return execute(...args)
  }) as typeof client.execute
  return client
}

/**
 * Background work (the job worker) on SQLite: libSQL runs each statement synchronously on the event loop and its
 * promise resolves as a microtask, so a job's run of statements (claim, reads; its group commits run on the writer
 * thread, server/db/sqlite-writer.ts) would otherwise hold back
 * every request arriving meanwhile (the SMS webhook waited for a whole run). While background work runs (between
 * `asBackgroundWork`'s start and end), each statement first lets the pending I/O callbacks run (setImmediate): a
 * request waits for at most one of the worker's statements. Requests' own statements run straight on when no job is
 * running; while one is, they yield too (the event loop then alternates between them and the job's statements).
 * PostgreSQL's statements are network I/O already.
 *
 * A module-level count, not an AsyncLocalStorage: on Node 20 an AsyncLocalStorage in use turns on async_hooks'
 * promise hooks for the whole process, a cost on every promise of every request (a streamed answer makes several per
 * token; bench/README.md "branch stream3"). The worker marks only its working stretches (a claim, a job's run, a
 * purge), never its idle wait between polls.
 *
 * On PostgreSQL the worker's queries must also find their own pool (`useConnection` below), which a count cannot
 * tell apart from a request's: there, and only there, the work also runs inside an AsyncLocalStorage. A SQLite
 * deployment never enters it, so it never pays the promise hooks. On PostgreSQL the storage is disabled again
 * whenever no background work is running (Node turns the hooks off with the last enabled storage): the hooks cost
 * only during the worker's working stretches, not on every request's promises from its first job on (8 % of the
 * app's CPU at 50 streams; bench/README.md "session 13"). A promise the work left running outside its stretch then
 * queries through the requests' pool.
 */
let backgroundWork = 0
const background = new AsyncLocalStorage<true>()
const yieldToIo = () => new Promise<void>(resolve => setImmediate(resolve))
export async function asBackgroundWork<T>(work: () => Promise<T>): Promise<T> {
  backgroundWork++
  try { return await (dialect === 'pg' ? background.run(true, work) : work()) }
  finally {
    if (--backgroundWork === 0 && dialect === 'pg') background.disable()
  }
}

/** True inside `asBackgroundWork` on PostgreSQL (the job worker and everything its jobs run); always false on SQLite. */
export const inBackgroundWork = () => background.getStore() === true

let connection: Connection | undefined
let backgroundConnection: Connection | undefined

/**
 * The connection (pool) for the current work. On PostgreSQL background work has its own small pool
 * (JOB_DATABASE_POOL_SIZE): postgres.js queues a query behind another on a busy connection, so with one pool a
 * request (the SMS webhook) waited behind the jobs' statements and could not get a connection while the jobs
 * held them all. SQLite has one file and no pool: one connection for both.
 */
export function useConnection(backgroundWork = inBackgroundWork()): Connection {
  const { databaseUrl, databasePoolSize, databaseConnectTimeoutMs, jobs } = useConfig()
  if (backgroundWork && dialect === 'pg') return (backgroundConnection ??= connect(databaseUrl, jobs.databasePoolSize, databaseConnectTimeoutMs))
  return (connection ??= connect(databaseUrl, databasePoolSize, databaseConnectTimeoutMs))
}

/** Closes every pool opened so far (at shutdown). */
export async function closeConnections() {
  const open = [connection, backgroundConnection]
  connection = backgroundConnection = undefined
  await Promise.all(open.map(c => c?.close()))
}

/** The app's database handle (on PostgreSQL, the job worker's pool inside background work). */
export const useDb = () => useConnection().db

/** Positional rows of a hand-written read query with `?` placeholders, for hot paths (server/db/hand-written.ts). */
export const readRows = (text: string, args: readonly unknown[]) => useConnection().handWritten.read(text, args)

/** A timestamp column as epoch milliseconds in a hand-written select (SQLite stores them so). */
export const epochMs = (column: string) => dialect === 'pg' ? `floor(extract(epoch from ${column}) * 1000)::float8` : column

/** An `epochMs` column read back as a Date; `epochDateOrNull` keeps a null column null. */
export const epochDate = (value: unknown) => new Date(Number(value))
export const epochDateOrNull = (value: unknown) => value === null || value === undefined ? null : epochDate(value)
/** A nullable number column or count as read (PostgreSQL's bigint counts come back as strings). */
export const numberOrNull = (value: unknown) => value === null || value === undefined ? null : Number(value)

/** A value as the driver takes it in a hand-written query: SQLite keeps dates as ms and flags as 0/1. */
export const driverValue = (value: Date | boolean | string | number | null) =>
  value === null ? null : dialect === 'pg' ? (value instanceof Date ? value.toISOString() : value) : value instanceof Date ? value.getTime() : typeof value === 'boolean' ? Number(value) : value

/**
 * `column` is one of a list of ids bound as ONE argument (`listValue`) in a hand-written query: the statement text
 * (and so the prepared statement) is the same whatever the list's length.
 */
export const inList = (column: string) => dialect === 'pg' ? `${column} = any(?::text[])` : `${column} in (select value from json_each(?))`
export const listValue = (values: readonly string[]) => dialect === 'pg' ? [...values] : JSON.stringify(values)

/**
 * A hand-written subquery's rows as ONE JSON array of arrays (`(select ${jsonRows([...])} from … where …)`), so that a
 * page can carry each row's few related rows in the same statement; read back with `jsonValue`. A JSON column goes
 * in through `nestedJson`, or it nests as a string on SQLite.
 */
export const jsonRows = (columns: readonly string[]) => dialect === 'pg'
  ? `coalesce(json_agg(json_build_array(${columns.join(', ')})), '[]')`
  : `json_group_array(json_array(${columns.join(', ')}))`
export const nestedJson = (column: string) => dialect === 'pg' ? column : `json(${column})`

/** A JSON column read by a hand-written query: SQLite keeps it as text, postgres.js has already parsed jsonb. */
export const jsonValue = (value: unknown) => typeof value === 'string' ? JSON.parse(value) as unknown : value

/** The rows of a raw `sql` query, either dialect (libSQL's `all`, postgres-js's `execute`). */
export async function rawRows<T>(query: SQL): Promise<T[]> {
  const db = useDb() as unknown as { all: (q: SQL) => Promise<T[]>, execute: (q: SQL) => Promise<T[]> }
  return dialect === 'pg' ? [...await db.execute(query)] : db.all(query)
}

// connection-level failures (not bad queries): the database is down, frozen or restarting
const UNAVAILABLE = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE',
  'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  '57P01', '57P02', '57P03', // admin_shutdown, crash_shutdown, cannot_connect_now
  // connection_exception and its subclasses: the link to the server failed or was never made
  '08000', '08001', '08003', '08004', '08006', '08P01',
  '53300', // too_many_connections: every slot is taken (by other clients) for now
  '3D000', // invalid_catalog_name: the database is gone (dropped, or being restored)
  'SQLITE_BUSY', 'SQLITE_CANTOPEN', 'SQLITE_IOERR',
])

/** The innermost cause of an error (drizzle and h3 wrap the driver's error); its message never holds query parameters. */
export function rootCause(error: unknown): unknown {
  let e = error
  for (let i = 0; i < 10 && e && typeof e === 'object' && 'cause' in e && (e as { cause?: unknown }).cause; i++) e = (e as { cause: unknown }).cause
  return e
}

/** True when an error says the database cannot be reached (→ 503), not that a query was wrong. */
export function databaseUnavailable(error: unknown): boolean {
  for (let e = error, i = 0; e && typeof e === 'object' && i < 10; e = (e as { cause?: unknown }).cause, i++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && UNAVAILABLE.has(code)) return true
    // object_not_in_prerequisite_state is also a query's error (currval before nextval): only this message is an outage
    if (code === '55000' && /not currently accepting connections/.test(String((e as { message?: unknown }).message))) return true
  }
  return false
}

/**
 * True when a write failed on a foreign key: a row it points at (a user, a report, a role) was deleted between the
 * request's checks and its write. A race with another request, never bad input: the routes answer it as the later
 * request would be answered (404, 400 naming the field, 401 for a caller deleted meanwhile), never 500.
 */
export function referenceGone(error: unknown): boolean {
  for (let e = error, i = 0; e && typeof e === 'object' && i < 10; e = (e as { cause?: unknown }).cause, i++) {
    const { code, extendedCode } = e as { code?: unknown, extendedCode?: unknown }
    if (code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY' || extendedCode === 'SQLITE_CONSTRAINT_FOREIGNKEY') return true
  }
  return false
}

/** Runs a ping that gives up after `ms` (a frozen database never answers). */
export function pingWithin(ms: number) {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('database ping timed out')), ms) })
  return Promise.race([useConnection().ping(), timeout]).finally(() => clearTimeout(timer))
}
