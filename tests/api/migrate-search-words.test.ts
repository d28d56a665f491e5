import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { uuidv7 } from 'uuidv7'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { dbTime } from '../support/db'
import { Client, DEMO } from '../support/http'
import { createTestDatabase, ROOT, startServer } from '../support/server'
import { sqlRun } from './admin-support'

// PostgreSQL's migration 0012 adds each message's whole words to its search vector beside the Spanish stems and
// rebuilds the vectors of the messages already stored: a message written under 0011 is found after the upgrade by
// a word typed part way ("operacione", whose stem is longer than the stored 'oper') and by a stop word ("para").
// On SQLite (no 0012; FTS5 indexes words whole) the same upgrade path must find them too.

const kind = inject('dbKind')
const cleanups: Array<() => Promise<void> | void> = []
afterAll(async () => { for (const cleanup of cleanups.reverse()) await cleanup() })

/** The migrations folder with its journal cut after `lastIdx` (the migrator applies what the journal lists). */
function migrationsUpTo(lastIdx: number) {
  const dir = mkdtempSync(join(tmpdir(), 'energyapp-migrations-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  cpSync(join(ROOT, 'drizzle', kind), join(dir, kind), { recursive: true })
  const journalPath = join(dir, kind, 'meta', '_journal.json')
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: Array<{ idx: number }> }
  journal.entries = journal.entries.filter(e => e.idx <= lastIdx)
  writeFileSync(journalPath, JSON.stringify(journal))
  return dir
}

describe('migration 0012: stored messages searchable by word starts and common words', () => {
  it('a message saved before the upgrade is found by a part-typed word and a stop word after it', async () => {
    const db = await createTestDatabase(kind, { empty: true }) // migrated below only to 0011, by hand
    cleanups.push(() => db.drop())
    const before = await startServer({ DATABASE_URL: db.url, MIGRATIONS_DIR: migrationsUpTo(11) })
    cleanups.push(async () => { await before.stop() })
    const [worker] = await sqlRun<{ id: string }>('select id from users where email = ?', [DEMO.worker.email], db.url)
    const conversation = uuidv7()
    const at = dbTime(new Date(Date.now() - 60_000), db.url)
    await sqlRun('insert into conversations (id, user_id, title, model, pinned, archived, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)',
      [conversation, worker!.id, 'Antes de 0012', 'qwen2.5:3b-instruct', false, false, at, at], db.url)
    await sqlRun('insert into messages (id, conversation_id, role, content, status, created_at) values (?, ?, ?, ?, ?, ?)',
      [uuidv7(), conversation, 'user', 'Revisar las operaciones para el turno de noche', 'complete', at], db.url)
    await before.stop()

    const after = await startServer({ DATABASE_URL: db.url, MIGRATIONS_DIR: migrationsUpTo(12) })
    cleanups.push(async () => { await after.stop() })
    const client = new Client(after.url)
    await client.login(DEMO.worker.email, DEMO.worker.password)
    for (const q of ['operacione', 'para el turno', 'operaciones']) {
      const res = await client.get(`/api/conversations?q=${encodeURIComponent(q)}`)
      expect(res.status, q).toBe(200)
      expect(res.body.data.map((c: any) => c.id), q).toEqual([conversation])
      expect(res.body.data[0].snippet.text, q).toContain('operaciones para el turno')
    }
  })
})
