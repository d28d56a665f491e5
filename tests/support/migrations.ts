import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { ROOT } from './server'

/**
 * A copy of `kind`'s migrations folder with its journal cut after `lastIdx` (the migrator applies what the journal
 * lists), for a server started with `MIGRATIONS_DIR` on an older schema. `cleanup` receives the folder's removal.
 */
export function migrationsUpTo(kind: 'sqlite' | 'pg', lastIdx: number, cleanup: (remove: () => void) => void) {
  const dir = mkdtempSync(join(tmpdir(), 'energyapp-migrations-'))
  cleanup(() => rmSync(dir, { recursive: true, force: true }))
  cpSync(join(ROOT, 'drizzle', kind), join(dir, kind), { recursive: true })
  const journalPath = join(dir, kind, 'meta', '_journal.json')
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: Array<{ idx: number }> }
  journal.entries = journal.entries.filter(e => e.idx <= lastIdx)
  writeFileSync(journalPath, JSON.stringify(journal))
  return dir
}
