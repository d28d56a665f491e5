import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { Client, GOOD_PASSWORD, uniqueEmail } from '../support/http'
import { createTestDatabase, ROOT, startServer, type TestDatabase } from '../support/server'

// deploy/backup.sh and deploy/restore.sh, end to end: back up a live database, restore it into an empty
// one, and the app serves what was there.
describe('backup and restore (deploy/backup.sh, deploy/restore.sh)', () => {
  const kind = inject('dbKind')
  const cleanup: Array<() => Promise<void> | void> = []
  afterAll(async () => { for (const fn of cleanup.reverse()) await fn() })

  const run = (script: string, env: Record<string, string>, args: string[] = []) =>
    execFileSync('bash', [join(ROOT, 'deploy', script), ...args], { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8' })

  it('a backup restores into an empty database and the app serves the restored data', async () => {
    const source: TestDatabase = await createTestDatabase(kind)
    cleanup.push(source.drop)
    let server = await startServer({ DATABASE_URL: source.url })
    const email = uniqueEmail('backup')
    const client = new Client(server.url)
    expect((await client.post('/api/auth/register', { email, password: GOOD_PASSWORD, fullName: 'Copia de Seguridad' })).status).toBe(201)
    const created = await client.post('/api/conversations', { title: 'Informe de respaldo' })
    expect(created.status).toBe(201)
    await server.stop()

    const backupDir = mkdtempSync(join(tmpdir(), 'energyapp-backup-'))
    cleanup.push(() => rmSync(backupDir, { recursive: true, force: true }))
    // an old backup beyond the 14 kept is removed
    for (let i = 0; i < 15; i++) writeFileSync(join(backupDir, `energyapp-2000010${i % 10}T00000${i}Z.old`), '')
    const out = run('backup.sh', { DATABASE_URL: source.url, BACKUP_DIR: backupDir })
    expect(out).toMatch(/backup: wrote/)
    const files = readdirSync(backupDir)
    expect(files.length).toBe(14)
    const backup = files.find(f => /\.(pgdump|sqlite)$/.test(f))!
    expect(backup).toBeTruthy()

    const target = await createTestDatabase(kind, { empty: true })
    cleanup.push(target.drop)
    run('restore.sh', { DATABASE_URL: target.url }, [join(backupDir, backup)])
    server = await startServer({ DATABASE_URL: target.url })
    cleanup.push(async () => { await server.stop() })
    const restored = new Client(server.url)
    const me = await restored.login(email, GOOD_PASSWORD)
    expect(me.fullName).toBe('Copia de Seguridad')
    const list = await restored.get('/api/conversations')
    expect(list.body.data.map((c: any) => c.id)).toEqual([created.body.id])
    expect(list.body.data[0].title).toBe('Informe de respaldo')
  })
})
