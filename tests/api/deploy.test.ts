import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import postgres from 'postgres'
import { createClient } from '@libsql/client'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { Client, GOOD_PASSWORD, uniqueEmail } from '../support/http'
import { startRedis } from '../support/redis'
import { createTestDatabase, ROOT, type RunningServer, startServer, type TestDatabase } from '../support/server'

const kind = inject('dbKind')

describe('deploy files', () => {
  const dbs: TestDatabase[] = []
  afterAll(async () => { for (const db of dbs) await db.drop() })

  it('two instances (with Redis) starting together on one empty database migrate it once and both serve', async () => {
    const db = await createTestDatabase(kind, { empty: true })
    dbs.push(db)
    const redis = await startRedis()
    dbs.push({ url: redis.url, drop: redis.stop })
    const env = { DATABASE_URL: db.url, REDIS_URL: redis.url }
    // allSettled: when one instance fails to start, the other is still stopped below
    const started = await Promise.allSettled([startServer(env), startServer(env)])
    const servers = started.flatMap(s => s.status === 'fulfilled' ? [s.value] : [])
    try {
      for (const s of started) if (s.status === 'rejected') throw s.reason
      const [a, b] = servers as [RunningServer, RunningServer]
      const email = uniqueEmail('twin')
      expect((await new Client(a.url).post('/api/auth/register', { email, password: GOOD_PASSWORD, fullName: 'Gemela' })).status).toBe(201)
      // a session made on one instance works on the other: the instances share nothing but the database
      const viaB = new Client(b.url)
      await viaB.login(email, GOOD_PASSWORD)
      expect((await viaB.get('/api/auth/me')).body.email).toBe(email)
    }
    finally { await Promise.all(servers.map(s => s.stop())) }
    const journal = JSON.parse(readFileSync(join(ROOT, 'drizzle', kind, 'meta', '_journal.json'), 'utf8')).entries.length
    const migrationsTable = kind === 'pg' ? 'drizzle.__drizzle_migrations' : '__drizzle_migrations'
    expect(await countRows(db.url, `select count(*) as n from ${migrationsTable}`)).toBe(journal)
    // the start-up seed ran twice at once and still left one default prompt and one row per demo account
    expect(await countRows(db.url, 'select count(*) as n from system_prompts')).toBe(1)
    expect(await countRows(db.url, `select count(*) as n from users where email like '%@example.com'`)).toBe(3)
  }, 90_000) // two servers racing to migrate an empty database: ~8 s quiet, past 30 s on PostgreSQL at load 17

  it.runIf(kind === 'sqlite')('the fail2ban filter matches the failed-login and rate-limit lines the app really logs', async () => {
    const db = await createTestDatabase('sqlite')
    dbs.push(db)
    const server = await startServer({ DATABASE_URL: db.url, LOG_LEVEL: 'info', LOGIN_RATE_LIMIT: '2/15m' })
    const client = new Client(server.url)
    for (let i = 0; i < 3; i++)
      await client.request('/api/auth/login', { method: 'POST', body: { email: 'nadie@test.local', password: 'incorrecta' }, headers: { 'x-forwarded-for': '203.0.113.7' } })
    await server.stop()
    const filter = readFileSync(join(ROOT, 'deploy', 'fail2ban', 'energyapp.conf'), 'utf8')
    const regexes = [...filter.matchAll(/^(?:failregex =|\s+)\s*(\^.*\$)\s*$/gm)].map(m => new RegExp(m[1]!.replace('<ADDR>', '(?<addr>[0-9a-fA-F.:]+)')))
    expect(regexes.length).toBe(2)
    const lines = server.output().split('\n').filter(l => l.startsWith('{'))
    const hits = lines.flatMap(line => regexes.map(r => r.exec(line)?.groups?.addr).filter(Boolean))
    // two failed logins, then one 429 (the third attempt is refused before the password check)
    expect(hits).toEqual(['203.0.113.7', '203.0.113.7', '203.0.113.7'])
    // and never a password in the log
    expect(server.output()).not.toContain('incorrecta')
  })

  it.runIf(kind === 'sqlite' && existsSync('/usr/bin/systemd-analyze'))('systemd accepts the unit files', () => {
    const units = readdirSync(join(ROOT, 'deploy')).filter(f => /\.(service|timer)$/.test(f)).map(f => join(ROOT, 'deploy', f))
    expect(units.length).toBe(4)
    for (const unit of units) {
      const result = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8' })
      // the only complaint allowed here is the VPS path of the backup script, which this machine lacks
      const problems = `${result.stdout}${result.stderr}`.split('\n').filter(l => l.trim() && !/\/opt\/energyapp\/.* is not executable/.test(l))
      expect(problems, unit).toEqual([])
    }
  })

  it.runIf(kind === 'sqlite')('the deploy scripts parse', () => {
    for (const script of ['deploy.sh', 'backup.sh', 'restore.sh'])
      execFileSync('bash', ['-n', join(ROOT, 'deploy', script)])
  })
})

async function countRows(url: string, query: string) {
  if (kind === 'pg') {
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    try { return Number((await sql.unsafe(query))[0]!.n) }
    finally { await sql.end() }
  }
  const client = createClient({ url })
  try { return Number((await client.execute(query)).rows[0]!.n) }
  finally { client.close() }
}
