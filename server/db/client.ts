import { mkdirSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import { createClient } from '@libsql/client'
import { drizzle as drizzleLibsql, type LibSQLDatabase } from 'drizzle-orm/libsql'
import { drizzle as drizzlePg } from 'drizzle-orm/postgres-js'
import postgres from 'postgres'
import { dialect, schema } from './schema'

export type Database = LibSQLDatabase<typeof schema>

interface Connection { db: Database, close: () => Promise<void>, ping: () => Promise<void> }

/** Opens the database named by the URL; the two drivers are hidden behind one drizzle type. */
export function connect(url: string): Connection {
  if (dialect === 'pg') {
    const client = postgres(url, { max: Number(process.env.DATABASE_POOL_SIZE || 10), onnotice: () => {} })
    const db = drizzlePg(client, { schema: schema as never }) as unknown as Database
    return { db, close: () => client.end({ timeout: 5 }), ping: async () => { await client`select 1` } }
  }
  if (url.startsWith('file:')) mkdirSync(dirname(resolve(url.slice('file:'.length))), { recursive: true })
  // pooled connections wait (up to 5 s) for the single writer instead of failing with SQLITE_BUSY
  const client = createClient({ url, timeout: 5000 })
  const db = drizzleLibsql(client, { schema })
  return {
    db,
    close: async () => client.close(),
    ping: async () => { await client.execute('select 1') },
  }
}

let connection: Connection | undefined

export function useConnection(): Connection {
  return (connection ??= connect(process.env.DATABASE_URL || 'file:./data/energyapp.db'))
}

/** The app's database handle. */
export const useDb = () => useConnection().db
