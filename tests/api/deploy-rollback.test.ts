import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { createClient } from '@libsql/client'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { ending, postChat } from '../support/chat'
import { FakeOllama } from '../support/fake-ollama'
import { Client, GOOD_PASSWORD, newWorker, uniqueEmail } from '../support/http'
import { type RunningRedis, startRedis } from '../support/redis'
import { createTestDatabase, freePort, freePorts, OUTPUT, redisServerPath, ROOT, TEST_ENV, type TestDatabase } from '../support/server'
import { heavyTurn } from '../support/heavy-turn'

const kind = inject('dbKind')

// deploy/deploy.sh end to end with two built releases and two app processes (energyapp@1, energyapp@2): a good
// release goes live with a rolling restart; a release whose migration runs but whose health check fails is rolled
// back — processes stopped, the pre-deploy backup restored, the previous build started and healthy again. Then a
// rolling restart behind Caddy (the Caddyfile with both processes as upstreams) while answers stream: none is cut,
// and no chat sent meanwhile fails (each stopping process drains: Caddy's health check takes it out first).
// systemctl is a small stand-in that starts and stops the processes as the template unit would.
const FAKE_SYSTEMCTL = `#!/usr/bin/env bash
set -eu
unit=$2; n=\${unit##*@}; pidf="$FAKE_STATE/$n.pid"
running() { kill -0 "$1" 2>/dev/null && [ "$(ps -o stat= -p "$1" | cut -c1)" != Z ]; }
stop() {
  [ -f "$pidf" ] || return 0
  pid=$(cat "$pidf"); kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 150); do running "$pid" || break; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true; rm -f "$pidf"
}
start() {
  set -a; . "$ENV_FILE"; set +a
  PORT=$((PORT_BASE + n)) HOST=127.0.0.1 nohup node "$APP_ROOT/current/.output/server/index.mjs" >>"$FAKE_STATE/$n.log" 2>&1 &
  echo $! >"$pidf"
}
case $1 in restart) stop; start ;; stop) stop ;; start) start ;; esac
`

// the failing release: the real build plus one migration, started on a port nobody checks (health never answers)
const BAD_INDEX = `import { writeFileSync } from 'node:fs'
const port = Number(process.env.PORT) + 1000
process.env.PORT = String(port)
await import('./index.real.mjs')
for (;;) {
  try { if ((await fetch('http://127.0.0.1:' + port + '/api/health')).ok) break } catch {}
  await new Promise(r => setTimeout(r, 100))
}
writeFileSync(process.env.FAKE_STATE + '/bad-migrated', 'yes')
`

// many processes and timing claims: one such file at a time on the machine (tests/support/heavy-turn.ts)
heavyTurn('deploy-rollback')

describe.skipIf(!redisServerPath())('deploy/deploy.sh: rolling restart, failed health check, rollback with restore', () => {
  const dir = mkdtempSync(join(tmpdir(), 'energyapp-deploy-'))
  let db: TestDatabase
  let redis: RunningRedis
  let env: Record<string, string> = {}
  let fake: FakeOllama
  let portBase = 0
  let good = ''

  afterAll(async () => {
    for (const n of [1, 2]) spawnSync(join(dir, 'systemctl'), ['stop', `energyapp@${n}`], { env: { ...process.env, ...env } })
    await fake?.close()
    await redis?.stop()
    await db?.drop()
    rmSync(dir, { recursive: true, force: true })
  })

  function deploy(release: string) {
    const run = spawnSync('bash', [join(ROOT, 'deploy/deploy.sh')], { cwd: ROOT, env: { ...process.env, ...env, RELEASE_DIR: release }, encoding: 'utf8', timeout: 170_000 })
    return { code: run.status, out: `${run.stdout}\n${run.stderr}` }
  }

  it('deploy → live; a release failing its health check after migrating → restored and rolled back, healthy again', async () => {
    // the first deploy migrates a database with no tables, as on a new machine
    db = await createTestDatabase(kind, { empty: true })
    redis = await startRedis()
    fake = await new FakeOllama().start()
    // instances 1 and 2 listen on PORT_BASE + 1 and + 2: both must be free, not only the first
    portBase = (await freePorts(2)) - 1
    const state = join(dir, 'state')
    mkdirSync(state)
    mkdirSync(join(dir, 'app', 'releases'), { recursive: true })
    const appEnv = {
      ...TEST_ENV, DATABASE_URL: db.url, REDIS_URL: redis.url, PUBLIC_ORIGIN: `http://127.0.0.1:${portBase + 1}`,
      DATA_DIR: join(dir, 'data'), FAKE_STATE: state, NITRO_SHUTDOWN_TIMEOUT: '10000', OLLAMA_HOST: fake.url,
      // as deploy/energyapp@.service: on SIGTERM serve on for 3 s while /api/health answers 503 draining
      SHUTDOWN_DRAIN_MS: '3000',
      CHAT_RATE_LIMIT: '10000/1m', CONVERSATION_RATE_LIMIT: '10000/1m', MAX_CONCURRENT_GENERATIONS: '4',
    }
    writeFileSync(join(dir, 'app.env'), Object.entries(appEnv).map(([k, v]) => `${k}='${v}'`).join('\n'))
    writeFileSync(join(dir, 'systemctl'), FAKE_SYSTEMCTL)
    chmodSync(join(dir, 'systemctl'), 0o755)
    env = {
      APP_ROOT: join(dir, 'app'), INSTANCES: '1 2', PORT_BASE: String(portBase), ENV_FILE: join(dir, 'app.env'),
      SYSTEMCTL: join(dir, 'systemctl'), DEPLOY_BACKUP_DIR: join(dir, 'backups'), HEALTH_TRIES: '30', FAKE_STATE: state,
      NODE_PATH: join(ROOT, 'node_modules'),
    }

    // release 1: the build as it is
    good = join(dir, 'app', 'releases', 'good')
    mkdirSync(good)
    cpSync(OUTPUT, join(good, '.output'), { recursive: true })
    // release 2: one more migration (a new table), and a server that never answers its health check
    const bad = join(dir, 'app', 'releases', 'bad')
    mkdirSync(bad)
    cpSync(OUTPUT, join(bad, '.output'), { recursive: true })
    const migrations = join(bad, '.output', 'server', 'drizzle', kind)
    const journal = JSON.parse(readFileSync(join(migrations, 'meta', '_journal.json'), 'utf8'))
    const last = journal.entries.at(-1)
    journal.entries.push({ ...last, idx: last.idx + 1, when: last.when + 1000, tag: '9999_deploy_probe' })
    writeFileSync(join(migrations, 'meta', '_journal.json'), JSON.stringify(journal))
    writeFileSync(join(migrations, '9999_deploy_probe.sql'), 'CREATE TABLE deploy_probe (id integer);')
    renameSync(join(bad, '.output', 'server', 'index.mjs'), join(bad, '.output', 'server', 'index.real.mjs'))
    writeFileSync(join(bad, '.output', 'server', 'index.mjs'), BAD_INDEX)

    const first = deploy(good)
    expect(first.code, first.out).toBe(0)
    expect(first.out).toMatch(/restarting energyapp@1[\s\S]*restarting energyapp@2[\s\S]*is live/)
    const site = (n: number) => `http://127.0.0.1:${portBase + n}`
    // data written before the failed deploy survives the rollback
    const email = uniqueEmail('deploy')
    expect((await new Client(site(1)).post('/api/auth/register', { email, password: GOOD_PASSWORD, fullName: 'Antes' })).status).toBe(201)

    const second = deploy(bad)
    expect(second.code, second.out).toBe(1)
    expect(second.out).toMatch(/backing it up first/)
    expect(second.out).toMatch(/health check of energyapp@1 failed/)
    expect(second.out).toMatch(/restoring the database/)
    expect(second.out).toMatch(/rolled back to/)
    // the failed release did migrate before it was stopped: the restore is what removed its table
    expect(existsSync(join(state, 'bad-migrated'))).toBe(true)
    expect(readlinkSync(join(dir, 'app', 'current'))).toBe(good)

    for (const n of [1, 2]) expect((await fetch(`${site(n)}/api/health`)).status).toBe(200)
    await new Client(site(2)).login(email, GOOD_PASSWORD)
    expect(await tableExists(db.url, 'deploy_probe')).toBe(false)
    expect(await tableExists(db.url, 'users')).toBe(true)
  }, 360_000)

  // the drain and Caddy's health checks do not touch the database: in the SQLite project only (as caddy.test.ts),
  // which also keeps the PostgreSQL project's share of the machine-wide heavy turn short
  it.skipIf(kind !== 'sqlite')('a rolling restart behind Caddy fails no chat: every chat sent meanwhile is answered and ends complete', async () => {
    expect(readlinkSync(join(dir, 'app', 'current'))).toBe(good)
    fake.reset().set({ tokenCount: 20, delayMs: 40 })
    const port = await freePort()
    const site = `http://127.0.0.1:${port}`
    const logDir = join(dir, 'caddy-logs')
    mkdirSync(logDir)
    const caddy: ChildProcess = spawn('/usr/bin/caddy', ['run', '--config', join(ROOT, 'Caddyfile'), '--adapter', 'caddyfile'], {
      env: { ...process.env, SITE_ADDRESS: site, APP_UPSTREAM: `127.0.0.1:${portBase + 1} 127.0.0.1:${portBase + 2}`, CADDY_LOG_DIR: logDir, CADDY_ADMIN: `127.0.0.1:${await freePort()}` },
      stdio: ['ignore', 'ignore', 'pipe'],
    })
    // Caddy's own log (JSON lines on stderr): why a request failed, if one does
    let caddyErrors = ''
    caddy.stderr!.on('data', (d) => { for (const line of String(d).split('\n')) if (/"level":"error"/.test(line)) caddyErrors += `${line}\n` })
    try {
      await expect.poll(() => fetch(`${site}/api/health`).then(r => r.status, () => 0), { timeout: 15_000 }).toBe(200)
      const users = await Promise.all([1, 2, 3].map(() => newWorker(site)))
      // the same release again: no migration, no backup — only the one-at-a-time restart (async: the streams go on meanwhile)
      const deploying = new Promise<{ code: number | null, out: string }>((resolve) => {
        const child = spawn('bash', [join(ROOT, 'deploy/deploy.sh')], { cwd: ROOT, env: { ...process.env, ...env, RELEASE_DIR: good } })
        let out = ''
        child.stdout.on('data', (d) => { out += d })
        child.stderr.on('data', (d) => { out += d })
        child.on('exit', code => resolve({ code, out }))
      })
      let deployed = false
      void deploying.then(() => { deployed = true })
      // what each process's own health says while the deploy runs: each must go through `draining` (503)
      const drained = new Set<number>()
      const watching = (async () => {
        while (!deployed) {
          for (const n of [1, 2]) {
            const res = await fetch(`http://127.0.0.1:${portBase + n}/api/health`, { signal: AbortSignal.timeout(2000) }).catch(() => null)
            if (res?.status === 503 && (await res.json()).status === 'draining') drained.add(n)
          }
          await new Promise(resolve => setTimeout(resolve, 100))
        }
      })()
      const replies = (await Promise.all(users.map(async (u, i) => {
        const mine = []
        while (!deployed) {
          const reply = await postChat(u.client, { message: `durante ${i}` })
          mine.push(reply)
          if (reply.status !== 200) await new Promise(resolve => setTimeout(resolve, 200))
        }
        return mine
      }))).flat()
      const { code, out } = await deploying
      await watching
      expect(code, out).toBe(0)
      expect(out).toMatch(/restarting energyapp@1[\s\S]*restarting energyapp@2[\s\S]*is live/)
      expect(out).not.toMatch(/backing it up/)
      expect(replies.length).toBeGreaterThan(6)
      console.info(`rolling restart: ${replies.filter(r => r.status === 200).length} of ${replies.length} chats answered`)
      // no 502 (caddy#7546: a POST retried after a refused connection) and no 503: a stopping process answers
      // /api/health 503 draining for SHUTDOWN_DRAIN_MS while it still serves, so Caddy stops sending to it before its
      // port closes, and deploy.sh lets Caddy take the restarted process back before the next one drains
      expect(replies.map(r => r.status), caddyErrors).toEqual(replies.map(() => 200))
      // every answer ran to its end: a process being stopped lets its running answers finish
      for (const reply of replies) {
        expect(ending(reply), reply.text).toMatchObject({ event: 'done', data: { finishReason: 'stop' } })
        expect(reply.tokens).toBe(Array.from({ length: 20 }, (_, k) => `tok${k} `).join(''))
      }
      expect(caddyErrors).toBe('')
      // both processes went through the drain, so the zero above is the drain's doing
      expect([...drained].sort()).toEqual([1, 2])
    }
    finally {
      caddy.kill('SIGTERM')
    }
  }, 180_000)
})

async function tableExists(url: string, table: string) {
  if (kind === 'pg') {
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    const rows = await sql`select 1 from information_schema.tables where table_name = ${table}`
    await sql.end()
    return rows.length > 0
  }
  const client = createClient({ url })
  const { rows } = await client.execute({ sql: `select 1 from sqlite_master where type = 'table' and name = ?`, args: [table] })
  client.close()
  return rows.length > 0
}
