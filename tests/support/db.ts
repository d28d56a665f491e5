import { createClient } from '@libsql/client'
import postgres from 'postgres'
import { inject } from 'vitest'

/**
 * Runs one SQL statement on the test project's database (the one the server uses), for arranging states no
 * API reaches yet and for reading tables the API does not show. Write `?` placeholders; they work on both
 * dialects. Booleans come back as 0/1 from SQLite and true/false from PostgreSQL: compare with `truthy`.
 */
export async function dbQuery<T = Record<string, unknown>>(text: string, params: unknown[] = [], url: string = inject('databaseUrl')): Promise<T[]> {
  if (/^postgres(ql)?:\/\//.test(url)) {
    let n = 0
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    try { return await sql.unsafe(text.replace(/\?/g, () => `$${++n}`), params as never[]) as unknown as T[] }
    finally { await sql.end({ timeout: 5 }) }
  }
  // the servers under test write the same file: wait for their write lock (busy_timeout) instead of failing at once
  const client = createClient({ url, timeout: 5000 })
  try {
    const params2 = params.map(p => typeof p === 'boolean' ? Number(p) : p) as Array<string | number | null>
    const result = await client.execute({ sql: text, args: params2 })
    return result.rows.map(row => Object.fromEntries(result.columns.map(c => [c, row[c]]))) as T[]
  }
  finally { client.close() }
}

/** A timestamp parameter as each dialect stores it (SQLite: epoch ms; PostgreSQL: timestamptz). */
export const dbTime = (date: Date, url: string = inject('databaseUrl')) => /^postgres/.test(url) ? date.toISOString() : date.getTime()

/** SQLite stores booleans as 0/1. */
export const truthy = (value: unknown) => value === true || value === 1 || value === '1'

/** Marks a user active or disabled straight in the database. */
export const setUserActive = (email: string, active: boolean) =>
  dbQuery('update users set active = ? where email = ?', [active, email.toLowerCase()])

/** The audit rows of one action, newest last. */
export const auditRows = (action: string, targetId?: string) => targetId
  ? dbQuery<AuditRow>('select * from audit_events where action = ? and target_id = ? order by at', [action, targetId])
  : dbQuery<AuditRow>('select * from audit_events where action = ? order by at', [action])

export interface AuditRow { id: string, at: unknown, actor_id: string | null, action: string, target_type: string | null, target_id: string | null, ip: string | null, user_agent: string | null, meta: unknown }

/** `meta` is jsonb on PostgreSQL and JSON text on SQLite. */
export const metaOf = (row: AuditRow) => (typeof row.meta === 'string' ? JSON.parse(row.meta) : row.meta) as Record<string, unknown> | null
