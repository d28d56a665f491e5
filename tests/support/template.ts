import { existsSync, statSync } from 'node:fs'
import { createClient } from '@libsql/client'
import postgres from 'postgres'
import { inject } from 'vitest'
import { createTestDatabase, PG_ADMIN_URL, startServer } from './server'

/**
 * Migrated template databases, one per vitest project and run.
 *
 * Why: a full run starts ~80 servers per API project, and a server on an empty database first runs every migration
 * and seeds the demo accounts (≈0.5 s more on SQLite, ≈2 s more on PostgreSQL on a loaded 2-core machine). So the
 * project's global setup starts the built server once on an empty database — the template is made by the app's own
 * migrations and start-up, nothing here writes a table — and `createTestDatabase` copies it: the file on SQLite,
 * `CREATE DATABASE … TEMPLATE` on PostgreSQL. Servers on a copy still run their migration check (a no-op there).
 *
 * Tests of migrations, of start-up on a fresh database, of demo seeding or of restoring into a new database ask for
 * `createTestDatabase(kind, { empty: true })`. TEST_DB_TEMPLATE=off makes every database empty, as before.
 */
export type DatabaseTemplate = { kind: 'sqlite', file: string } | { kind: 'pg', name: string }

declare module 'vitest' {
  export interface ProvidedContext { dbTemplate: DatabaseTemplate | null }
}

/** The template made in this process (the global setup), else the one the global setup provided to the workers. */
let made: DatabaseTemplate | undefined

export function templateFor(kind: 'sqlite' | 'pg'): DatabaseTemplate | undefined {
  let template = made
  if (!template) {
    try { template = inject('dbTemplate') ?? undefined }
    catch { template = undefined } // outside a vitest worker: no template, an empty database
  }
  return template?.kind === kind ? template : undefined
}

export const templatesEnabled = () => process.env.TEST_DB_TEMPLATE !== 'off'

/** Makes the template for `kind` (see above) and returns it with the function that removes it. */
export async function createTemplate(kind: 'sqlite' | 'pg'): Promise<{ template: DatabaseTemplate, drop: () => Promise<void> }> {
  const db = await createTestDatabase(kind, { empty: true })
  const server = await startServer({ DATABASE_URL: db.url })
  const code = await server.stop()
  if (code !== 0) throw new Error(`the template server exited with ${code}:\n${server.output()}`)
  if (kind === 'sqlite') {
    const file = db.url.slice('file:'.length)
    // the server's last connection checkpoints the WAL at close; make sure, since a copy of the file alone would
    // miss whatever the -wal file still holds
    const client = createClient({ url: db.url })
    await client.execute('pragma wal_checkpoint(truncate)')
    client.close()
    for (const extra of ['-wal', '-journal']) {
      if (existsSync(file + extra) && statSync(file + extra).size > 0) throw new Error(`template ${file}${extra} is not empty`)
    }
    made = { kind, file }
    return { template: made, drop: db.drop }
  }
  const name = new URL(db.url).pathname.slice(1)
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} })
  try {
    // CREATE DATABASE … TEMPLATE needs the source without connections: none may open from now on
    await admin.unsafe(`alter database ${name} with allow_connections false`)
    await admin`select pg_terminate_backend(pid) from pg_stat_activity where datname = ${name}`
  }
  finally { await admin.end() }
  made = { kind, name }
  return { template: made, drop: db.drop }
}
