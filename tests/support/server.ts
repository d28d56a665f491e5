import { type ChildProcess, spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import postgres from 'postgres'
import { templateFor } from './template'

export const ROOT = resolve(import.meta.dirname, '../..')
export const OUTPUT = resolve(ROOT, process.env.NUXT_OUTPUT_DIR || '.output')
export const PG_ADMIN_URL = process.env.TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres'

/** Debian's redis-server, for the tests that need a real Redis (scripts/test.mjs reports when it is missing). */
export const redisServerPath = () => [process.env.REDIS_SERVER, '/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(p => p && existsSync(p))

/** Whether `port` can be listened on now. */
const portFree = (port: number) => new Promise<boolean>((ok) => {
  const srv = createServer()
  srv.unref()
  srv.once('error', () => ok(false))
  srv.listen(port, '127.0.0.1', () => srv.close(() => ok(true)))
})

/**
 * The first of `n` consecutive ports that are all free now, for processes numbered from one base (deploy's
 * `PORT_BASE + n`). The OS picks the first; the ones after it are checked, not assumed: another test's server may
 * hold one of them.
 */
export async function freePorts(n: number): Promise<number> {
  for (;;) {
    const first = await freePort()
    if (first + n - 1 > 65535) continue
    const rest = await Promise.all(Array.from({ length: n - 1 }, (_, i) => portFree(first + 1 + i)))
    if (rest.every(Boolean)) return first
  }
}

export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const srv = createServer()
    srv.unref()
    srv.on('error', fail)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number }
      srv.close(() => ok(port))
    })
  })
}

export interface TestDatabase { url: string, drop: () => Promise<void> }

/**
 * A fresh database: a libSQL file in a temp folder, or a new PostgreSQL database dropped afterwards. It is a copy of
 * the project's migrated template (tests/support/template.ts) unless `empty` is asked for: tests of migrations,
 * of start-up on a fresh database, of demo seeding, of restoring into a new database need a database with no tables.
 */
export async function createTestDatabase(kind: 'sqlite' | 'pg', { empty = false }: { empty?: boolean } = {}): Promise<TestDatabase> {
  const template = empty ? undefined : templateFor(kind)
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'energyapp-test-'))
    const file = join(dir, 'test.db')
    if (template?.kind === 'sqlite') copyFileSync(template.file, file)
    return { url: `file:${file}`, drop: async () => rmSync(dir, { recursive: true, force: true }) }
  }
  const name = `energyapp_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}${template?.kind === 'pg' ? ` template ${template.name}` : ''}`)
  await admin.end()
  const url = new URL(PG_ADMIN_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    drop: async () => {
      const c = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} })
      await c.unsafe(`drop database if exists ${name} with (force)`)
      await c.end()
    },
  }
}

export interface RunningServer {
  url: string
  port: number
  child: ChildProcess
  output: () => string
  stop: (signal?: NodeJS.Signals) => Promise<number | null>
}

/** Environment every test server gets unless a test overrides it. */
export const TEST_ENV: Record<string, string> = {
  NODE_ENV: 'test',
  LOG_LEVEL: 'silent',
  SESSION_SECRET: 'test-secret-test-secret-test-secret-0123456789',
  DEMO_ACCOUNTS: 'true',
  REGISTRATION_DOMAINS: 'test.local,example.com',
  LOGIN_IP_RATE_LIMIT: '100000/15m',
  OLLAMA_HOST: 'http://127.0.0.1:9',
  // signed-in requests are remembered this long (server/services/auth-cache.ts; 5 s by default): the app's own writes
  // empty that cache at once, and tests that change sessions or users straight in the database wait at most this
  AUTH_CACHE_MS: '1000',
  // a live-events stream re-checks its session this often (10 s by default): tests of revoked sessions and disabled
  // users wait for it, and no test needs the default
  EVENTS_RECHECK_MS: '1000',
}

// every server a test file starts dies with that file's worker, even when the test that started it failed; a worker
// ended by a signal (vitest tearing down a timed-out file, ^C) never emits 'exit', and its servers lived on orphaned
const running = new Set<ChildProcess>()
const killAll = () => { for (const child of running) child.kill('SIGKILL') }
process.once('exit', killAll)
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAll()
    process.kill(process.pid, signal)
  })
}

/** Whether process `pid` holds the listening TCP socket on `port` (Linux /proc; elsewhere assumed). */
function listensOn(pid: number, port: number): boolean {
  let table: string
  try { table = readFileSync('/proc/net/tcp', 'utf8') }
  catch { return true }
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`
  // columns: sl local_address rem_address st … inode (10th); st 0A = LISTEN
  const inodes = new Set(table.split('\n').slice(1).map(line => line.trim().split(/\s+/)).filter(f => f[1]?.endsWith(hex) && f[3] === '0A').map(f => f[9]))
  let fds: string[]
  try { fds = readdirSync(`/proc/${pid}/fd`) }
  catch { return false }
  return fds.some((fd) => {
    try { return inodes.has(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1] ?? '') }
    catch { return false }
  })
}

/** Starts the built Nitro server (`.output/server/index.mjs`) and waits until it answers (on another port after `EADDRINUSE`, up to 3 tries). */
export async function startServer(env: Record<string, string | undefined>, attempt = 1): Promise<RunningServer> {
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), 'energyapp-data-'))
  const child = spawn(process.execPath, [join(OUTPUT, 'server', 'index.mjs')], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...TEST_ENV, DATA_DIR: dataDir, PUBLIC_ORIGIN: `http://127.0.0.1:${port}`, ...env, PORT: String(port), HOST: '127.0.0.1' } as NodeJS.ProcessEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  running.add(child)
  let log = ''
  child.stdout!.on('data', (d) => { log += d })
  child.stderr!.on('data', (d) => { log += d })
  const exited = new Promise<number | null>(ok => child.on('exit', (code) => {
    running.delete(child)
    ok(code)
  }))
  const url = `http://127.0.0.1:${port}`
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) {
      rmSync(dataDir, { recursive: true, force: true })
      if (/EADDRINUSE/.test(log) && attempt < 3) return startServer(env, attempt + 1)
      throw new Error(`server exited with ${child.exitCode}:\n${log}`)
    }
    try {
      const res = await fetch(`${url}/api/health`)
      // another process may have taken the port between freePort() and this server's listen (three projects start
      // servers side by side): its 200 is not ours, and this server is about to exit with EADDRINUSE
      if (res.status === 200 && listensOn(child.pid!, port)) break
    }
    catch {}
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      await exited
      rmSync(dataDir, { recursive: true, force: true })
      throw new Error(`server did not start:\n${log}`)
    }
    await new Promise(r => setTimeout(r, 100))
  }
  return {
    url,
    port,
    child,
    output: () => log,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal)
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
      const code = await exited
      clearTimeout(timer)
      rmSync(dataDir, { recursive: true, force: true })
      return code
    },
  }
}
