import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { SafeClient } from '../support/auth'
import { dbQuery } from '../support/db'
import { GOOD_PASSWORD } from '../support/http'
import { createTestDatabase, ROOT, type RunningServer, startServer, type TestDatabase } from '../support/server'

const SCRIPT = resolve(ROOT, 'scripts/create-admin.mjs')

/** Runs the script the way an operator would, without a terminal (stdin closed). */
function createAdmin(url: string, ...args: string[]) {
  const run = spawnSync(process.execPath, [SCRIPT, ...args], { env: { PATH: process.env.PATH, DATABASE_URL: url }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 60_000 })
  return { code: run.status, out: run.stdout, err: run.stderr }
}

// A fresh, empty database of this project's kind: the script must create the schema itself.
let db: TestDatabase
let server: RunningServer | undefined

// create-admin migrates the database itself: it gets one with no tables
beforeAll(async () => { db = await createTestDatabase(inject('dbKind'), { empty: true }) })
afterAll(async () => {
  await server?.stop()
  await db?.drop()
})

describe('npm run create-admin', () => {
  it('on an empty database: migrates, creates the admin with a generated password printed once; the server then signs them in', async () => {
    const run = createAdmin(db.url, '--email', '  Jefa@Empresa.CL ', '--name', 'Jefa de Operaciones')
    expect(run.err).toBe('')
    expect(run.code).toBe(0)
    expect(run.out).toContain('created admin jefa@empresa.cl')
    const password = /password \(shown once[^)]*\): (\S+)/.exec(run.out)?.[1]
    expect(password?.length).toBeGreaterThanOrEqual(20)
    expect(run.out.split(password!)).toHaveLength(2)

    const [row] = await dbQuery<{ password_hash: string, role: string }>('select password_hash, role from users where email = ?', ['jefa@empresa.cl'], db.url)
    expect(row!.role).toBe('admin')
    expect(row!.password_hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/)
    const [audit] = await dbQuery<{ action: string }>('select action from audit_events where action = ?', ['admin.bootstrap'], db.url)
    expect(audit?.action).toBe('admin.bootstrap')

    // the server starts on the migrated database (its own migrations are a no-op) and accepts the login
    server = await startServer({ DATABASE_URL: db.url, DEMO_ACCOUNTS: 'false' })
    const client = new SafeClient(server.url)
    const login = await client.post('/api/auth/login', { email: 'jefa@empresa.cl', password })
    expect(login.status).toBe(200)
    expect(login.body.user).toMatchObject({ email: 'jefa@empresa.cl', fullName: 'Jefa de Operaciones', role: 'admin', active: true })
    expect((await client.get('/api/auth/me')).body.role).toBe('admin')
  }, 90_000) // migrates an empty database, then starts a server: past 30 s on PostgreSQL at load 17

  it('an existing worker is promoted and re-enabled; --password replaces the password and signs out old sessions', async () => {
    const email = `promo-${Date.now()}@test.local`
    const worker = new SafeClient(server!.url)
    const reg = await worker.post('/api/auth/register', { email, password: GOOD_PASSWORD, fullName: 'Futuro Admin' })
    expect(reg.status).toBe(201)
    await dbQuery('update users set active = ? where email = ?', [false, email], db.url)

    const keep = createAdmin(db.url, '--email', email)
    expect(keep.code).toBe(0)
    expect(keep.out).toMatch(/now an active admin \(was worker\).*password unchanged/)
    expect(keep.out).not.toContain('shown once')
    const signedIn = await new SafeClient(server!.url).post('/api/auth/login', { email, password: GOOD_PASSWORD })
    expect(signedIn.status).toBe(200)
    expect(signedIn.body.user.role).toBe('admin')

    const session = new SafeClient(server!.url)
    await session.login(email, GOOD_PASSWORD)
    const replace = createAdmin(db.url, '--email', email, '--password', 'nueva-clave-admin-42')
    expect(replace.code).toBe(0)
    expect(replace.out).toContain('password replaced')
    expect((await session.get('/api/auth/me')).status).toBe(401)
    expect((await new SafeClient(server!.url).post('/api/auth/login', { email, password: GOOD_PASSWORD })).status).toBe(401)
    expect((await new SafeClient(server!.url).post('/api/auth/login', { email, password: 'nueva-clave-admin-42' })).status).toBe(200)
  })

  it('bad arguments exit 2 with a message naming the option, and change nothing', async () => {
    const before = await dbQuery('select id from users', [], db.url)
    for (const [args, needle] of [
      [[], '--email'],
      [['--email', 'not-an-email'], '--email'],
      [['--email', 'x@y.cl', '--password', 'short'], '--password'],
      [['--email', 'x@y.cl', '--unknown'], 'unknown'],
    ] as Array<[string[], string]>) {
      const run = createAdmin(db.url, ...args)
      expect(run.code, args.join(' ')).toBe(2)
      expect(run.err.toLowerCase()).toContain(needle)
    }
    expect(await dbQuery('select id from users', [], db.url)).toHaveLength(before.length)
  })

  it('an unreachable database exits 1 with the reason', () => {
    const url = inject('dbKind') === 'pg' ? 'postgres://postgres@127.0.0.1:5432/energyapp_no_such_db' : 'libsql://127.0.0.1:9'
    const run = createAdmin(url, '--email', 'x@y.cl', '--password', 'una-clave-larga-1')
    expect(run.code).toBe(1)
    expect(run.err).toMatch(/create-admin: \S/)
  })
})
