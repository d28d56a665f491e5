import { type ChildProcess, spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { sqliteClient } from '../../server/db/client'

/**
 * Two processes on one SQLite file (the split web + worker topology). SQLite's busy wait is synchronous, so the
 * lock holder must be another process: this one would freeze waiting for itself.
 */

const ROOT = resolve(import.meta.dirname, '../..')
let dir: string | undefined
const children: ChildProcess[] = []

afterEach(() => {
  for (const child of children.splice(0)) child.kill()
  if (dir) rmSync(dir, { recursive: true, force: true })
  dir = undefined
})

/** Another process takes the write lock, writes, and commits after `ms`; resolves once it holds the lock. */
function holdWriteLock(url: string, ms: number): Promise<ChildProcess> {
  const script = `
    const { createClient } = require('@libsql/client')
    const c = createClient({ url: ${JSON.stringify(url)} })
    c.transaction('write').then(async tx => {
      await tx.execute('update t set v = v + 100')
      console.log('held')
      setTimeout(async () => { await tx.commit(); process.exit(0) }, ${ms})
    })`
  const child = spawn(process.execPath, ['-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve(child))
    child.once('exit', code => reject(new Error(`lock holder exited with ${code}`)))
  })
}

const exited = (child: ChildProcess) => new Promise(resolve => child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve))

describe('SQLite shared by two processes', () => {
  it('a batch that reads before it writes waits for the other process\'s write lock, and the connection stays usable', async () => {
    dir = mkdtempSync(join(tmpdir(), 'energyapp-busy-'))
    const url = `file:${join(dir, 'db.sqlite')}`
    const client = sqliteClient(url)
    await client.execute('pragma journal_mode = wal')
    await client.execute('create table t (id integer primary key, v integer not null)')
    await client.execute('insert into t (v) values (0)')

    const holder = await holdWriteLock(url, 400)
    const started = performance.now()
    // BEGIN DEFERRED here failed at once with SQLITE_BUSY (a read lock cannot be upgraded while another writes)
    await client.batch([{ sql: 'select v from t', args: [] }, { sql: 'update t set v = v + 1', args: [] }])
    expect(performance.now() - started).toBeGreaterThan(200)
    await exited(holder)

    // and the connection was not left on a stale snapshot: another process commits, this one still writes
    const again = await holdWriteLock(url, 50)
    await exited(again)
    await client.execute('update t set v = v + 1')
    const { rows } = await client.execute('select v from t')
    expect(Number(rows[0]![0])).toBe(202)
    client.close()
  }, 30_000)
})
