import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { type Client, createClient, type Transaction } from '@libsql/client'
import { readMigrationFiles } from 'drizzle-orm/migrator'
import { drizzle as drizzlePg } from 'drizzle-orm/postgres-js'
import { migrate as migratePg } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'
import { dialect } from './schema'

/**
 * The migrations ship inside the build (.output/server/drizzle); in dev they are read from the repo. `dir` is
 * MIGRATIONS_DIR, passed in by the start-up (the db layer does not read the configuration itself).
 */
export function migrationsFolder(dir?: string) {
  const candidates = [
    dir,
    process.argv[1] && join(dirname(resolve(process.argv[1])), 'drizzle'),
    resolve('drizzle'),
  ].filter(Boolean) as string[]
  const root = candidates.find(dir => existsSync(join(dir, dialect, 'meta', '_journal.json')))
  if (!root) throw new Error(`migrations not found (looked in ${candidates.join(', ')})`)
  return join(root, dialect)
}

// Any constant works; it only has to be the same in every instance of the app.
const MIGRATION_LOCK = 720_301
/** How long an instance waits for another one's migrations before it gives up. */
const SQLITE_LOCK_WAIT_MS = 120_000

/**
 * Applies pending migrations. Instances starting together take turns: on PostgreSQL on an advisory lock, on
 * SQLite on the database's own write lock, held from reading what is applied until the last migration commits.
 */
export async function runMigrations(url: string, dir?: string) {
  const folder = migrationsFolder(dir)
  if (dialect === 'pg') {
    const client = postgres(url, { max: 1, onnotice: () => {} })
    try {
      await client`select pg_advisory_lock(${MIGRATION_LOCK})`
      await migratePg(drizzlePg(client), { migrationsFolder: folder })
      await client`select pg_advisory_unlock(${MIGRATION_LOCK})`
    }
    finally { await client.end({ timeout: 5 }) }
    return
  }
  await migrateSqlite(url, folder)
}

/**
 * drizzle's libSQL migrator reads the applied list and writes the new migrations in two steps, so two
 * instances can both read "nothing applied" and the second fails with "table … already exists". Here the
 * read and the writes share one BEGIN IMMEDIATE transaction. The same table and rows as drizzle's, so
 * databases migrated either way are interchangeable.
 */
async function migrateSqlite(url: string, folder: string) {
  const migrations = readMigrationFiles({ migrationsFolder: folder })
  const deadline = Date.now() + SQLITE_LOCK_WAIT_MS
  for (let wait = 10; ; wait = Math.min(wait * 2, 250)) {
    try { return await applyPending(url, migrations) }
    catch (error) {
      // the write lock was ours, but the COMMIT met another connection's read lock (a file still in rollback-journal
      // mode: a new database before WAL is set) and busy_timeout is 0: nothing was applied, so take turns again
      if (!isBusy(error) || Date.now() > deadline) throw error
    }
    await new Promise(resolve => setTimeout(resolve, wait))
  }
}

async function applyPending(url: string, migrations: ReturnType<typeof readMigrationFiles>) {
  const { client, tx } = await writeTransaction(url)
  try {
    // table rebuilds must not cascade: the pragma is a no-op inside a transaction, so it was set before BEGIN
    const fk = await tx.execute('pragma foreign_keys')
    if (Number(fk.rows[0]?.[0]) !== 0) throw new Error('migrations need foreign_keys off on their connection')
    await tx.execute('create table if not exists "__drizzle_migrations" (id SERIAL PRIMARY KEY, hash text NOT NULL, created_at numeric)')
    const last = await tx.execute('select created_at from "__drizzle_migrations" order by created_at desc limit 1')
    const lastApplied = last.rows.length ? Number(last.rows[0]![0]) : -Infinity
    for (const migration of migrations.filter(m => m.folderMillis > lastApplied)) {
      for (const statement of migration.sql) if (statement.trim()) await tx.execute(statement)
      await tx.execute({ sql: 'insert into "__drizzle_migrations" ("hash", "created_at") values (?, ?)', args: [migration.hash, migration.folderMillis] })
    }
    await tx.commit()
  }
  finally {
    tx.close()
    client.close()
  }
}

const isBusy = (error: unknown) => String((error as { code?: string })?.code ?? '').startsWith('SQLITE_BUSY')

/**
 * BEGIN IMMEDIATE on a new connection, retried while another connection holds the write lock. busy_timeout is
 * 0 so that the wait never blocks the event loop (the other holder may be this very process), and each try
 * gets a fresh connection: libSQL leaves a refused BEGIN "in progress", and that connection's COMMIT then fails.
 */
async function writeTransaction(url: string): Promise<{ client: Client, tx: Transaction }> {
  const deadline = Date.now() + SQLITE_LOCK_WAIT_MS
  for (let wait = 10; ; wait = Math.min(wait * 2, 250)) {
    const client = createClient({ url, timeout: 0 })
    try {
      // WAL first (kept in the file): a reader then never makes the migrations' COMMIT busy; best effort, since
      // switching needs a moment alone with the file (the start-up sets it again after migrating)
      await client.execute('pragma journal_mode = wal').catch(() => {})
      await client.execute('pragma foreign_keys = off')
      return { client, tx: await client.transaction('write') }
    }
    catch (error) {
      client.close()
      if (!isBusy(error) || Date.now() > deadline) throw error
    }
    await new Promise(resolve => setTimeout(resolve, wait))
  }
}
