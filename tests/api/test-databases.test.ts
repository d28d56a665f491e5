import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { dbQuery } from '../support/db'
import { createTestDatabase, ROOT, type TestDatabase } from '../support/server'
import { templatesEnabled } from '../support/template'

const kind = inject('dbKind')
const journal = JSON.parse(readFileSync(join(ROOT, 'drizzle', kind, 'meta', '_journal.json'), 'utf8')).entries.length
const tables = (url: string) => dbQuery<{ n: number | string }>(kind === 'pg'
  ? `select count(*) as n from information_schema.tables where table_schema in ('public', 'drizzle')`
  : `select count(*) as n from sqlite_master where type = 'table'`, [], url).then(([row]) => Number(row!.n))

// tests/support/template.ts: test databases are copies of a template the app migrated at the project's start
describe('test databases', () => {
  const dbs: TestDatabase[] = []
  afterAll(async () => { for (const db of dbs) await db.drop() })

  it.runIf(templatesEnabled())('a test database is already migrated and seeded (every migration, the default prompt, the demo accounts)', async () => {
    const db = await createTestDatabase(kind)
    dbs.push(db)
    const migrations = await dbQuery<{ n: number | string }>(`select count(*) as n from ${kind === 'pg' ? 'drizzle.' : ''}__drizzle_migrations`, [], db.url)
    expect(Number(migrations[0]!.n)).toBe(journal)
    expect(await dbQuery('select id from system_prompts', [], db.url)).toHaveLength(1)
    const demo = await dbQuery<{ email: string }>('select email from users where is_demo = ? order by email', [true], db.url)
    expect(demo.map(u => u.email)).toEqual(['admin@example.com', 'supervisor@example.com', 'trabajador@example.com'])
  })

  it('two test databases are independent: a row written in one is not in the other', async () => {
    const [a, b] = [await createTestDatabase(kind), await createTestDatabase(kind)]
    dbs.push(a, b)
    if (!templatesEnabled()) return
    await dbQuery('update users set full_name = ? where email = ?', ['Cambiado', 'admin@example.com'], a.url)
    expect(await dbQuery('select full_name from users where email = ?', ['admin@example.com'], b.url)).toEqual([{ full_name: 'Administradora Demo' }])
  })

  it('{ empty: true } gives a database with no tables at all', async () => {
    const db = await createTestDatabase(kind, { empty: true })
    dbs.push(db)
    expect(await tables(db.url)).toBe(0)
  })
})
