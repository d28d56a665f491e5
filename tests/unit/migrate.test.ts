import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createClient } from '@libsql/client'
import { afterEach, describe, expect, it } from 'vitest'
import { runMigrations } from '../../server/db/migrate'

const ROOT = resolve(import.meta.dirname, '../..')
const journal = JSON.parse(readFileSync(join(ROOT, 'drizzle/sqlite/meta/_journal.json'), 'utf8')).entries as unknown[]
const dirs: string[] = []
afterEach(() => { for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true }) })

function freshFile() {
  const dir = mkdtempSync(join(tmpdir(), 'energyapp-migrate-'))
  dirs.push(dir)
  return `file:${join(dir, 'race.db')}`
}

async function appliedCount(url: string) {
  const client = createClient({ url })
  try { return Number((await client.execute('select count(*) as n from __drizzle_migrations')).rows[0]!.n) }
  finally { client.close() }
}

// Several instances starting on one empty SQLite file: each reads "nothing applied" before any applies, so
// without a lock the second one fails with "table … already exists". In one process the interleaving at the
// driver's await points makes that race happen every time, so this test is deterministic.
describe('SQLite migrations', () => {
  it('five runs started together on one empty file apply every migration exactly once', async () => {
    const url = freshFile()
    await Promise.all(Array.from({ length: 5 }, () => runMigrations(url)))
    expect(await appliedCount(url)).toBe(journal.length)
  })

  it('a second run on a migrated file changes nothing', async () => {
    const url = freshFile()
    await runMigrations(url)
    await runMigrations(url)
    expect(await appliedCount(url)).toBe(journal.length)
  })
})
