import { existsSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { createClient } from '@libsql/client'
import { drizzle as drizzleLibsql } from 'drizzle-orm/libsql'
import { migrate as migrateLibsql } from 'drizzle-orm/libsql/migrator'
import { drizzle as drizzlePg } from 'drizzle-orm/postgres-js'
import { migrate as migratePg } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'
import { dialect } from './schema'

/** The migrations ship inside the build (.output/server/drizzle); in dev they are read from the repo. */
export function migrationsFolder() {
  const candidates = [
    process.env.MIGRATIONS_DIR,
    process.argv[1] && join(dirname(resolve(process.argv[1])), 'drizzle'),
    resolve('drizzle'),
  ].filter(Boolean) as string[]
  const root = candidates.find(dir => existsSync(join(dir, dialect, 'meta', '_journal.json')))
  if (!root) throw new Error(`migrations not found (looked in ${candidates.join(', ')})`)
  return join(root, dialect)
}

// Any constant works; it only has to be the same in every instance of the app.
const MIGRATION_LOCK = 720_301

/** Applies pending migrations; two instances starting together take turns on a PostgreSQL advisory lock. */
export async function runMigrations(url: string) {
  const folder = migrationsFolder()
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
  const client = createClient({ url })
  try {
    await client.execute('pragma busy_timeout = 5000')
    await migrateLibsql(drizzleLibsql(client), { migrationsFolder: folder })
  }
  finally { client.close() }
}
