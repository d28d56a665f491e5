// Shared pieces of the hand-run benchmarks (bench/*.mjs): the built server started with a given environment,
// fresh throw-away databases, sign-in, and sequential latency measurement. Not a test helper: tests use
// tests/support/server.ts.
import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import postgres from 'postgres'
import { ensureBuild } from '../scripts/ensure-build.mjs'

export const root = resolve(import.meta.dirname, '..')
export const pgAdminUrl = process.env.TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres'

/** The build to run ($NUXT_OUTPUT_DIR, default .output); exits with a hint when there is none. */
export function requireBuild() {
  const output = resolve(root, process.env.NUXT_OUTPUT_DIR || '.output')
  if (!existsSync(join(output, 'server/index.mjs'))) {
    console.error(`no build at ${output}; run npm run build (or set NUXT_OUTPUT_DIR)`)
    process.exit(1)
  }
  return output
}

/**
 * Builds the default output (.output) when the sources changed. A build named by $NUXT_OUTPUT_DIR is used as it is:
 * it is how a bench runs an older commit's build, which a rebuild from this checkout's sources would overwrite.
 */
export function benchBuild(options) {
  if (process.env.NUXT_OUTPUT_DIR) return requireBuild()
  ensureBuild(options)
  return requireBuild()
}

export const freePort = () => new Promise((ok, fail) => {
  const srv = createServer().on('error', fail)
  srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => ok(port)) })
})

/**
 * Starts the built server (`NODE_ENV=production`, demo accounts, no model server unless `env` names one) on a
 * free port with its own data directory, waits until `/api/health` answers 200, and returns `{url, pid, stop}`.
 * `env` is added to (and overrides) the defaults; `nodeArgs` go to node (e.g. `--cpu-prof`); the server's stderr goes
 * to this process's.
 */
export async function startServer({ databaseUrl, env = {}, output = requireBuild(), nodeArgs = cpuProfileArgs(), startTimeoutMs = 60_000 }) {
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), 'energyapp-bench-data-'))
  const child = spawn(process.execPath, [...nodeArgs, join(output, 'server/index.mjs')], {
    env: {
      PATH: process.env.PATH, NODE_ENV: 'production', LOG_LEVEL: 'silent', DATABASE_URL: databaseUrl, DATA_DIR: dataDir,
      SESSION_SECRET: 'bench-secret-bench-secret-bench-secret-0123', DEMO_ACCOUNTS: 'true',
      OLLAMA_HOST: 'http://127.0.0.1:9', PORT: String(port), HOST: '127.0.0.1', PUBLIC_ORIGIN: `http://127.0.0.1:${port}`,
      ...env,
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const url = `http://127.0.0.1:${port}`
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`)
    const ok = await fetch(`${url}/api/health`).then(r => r.ok, () => false)
    if (ok) break
    if (i * 100 > startTimeoutMs) { child.kill('SIGTERM'); throw new Error(`server did not start within ${startTimeoutMs / 1000} s`) }
    await new Promise(r => setTimeout(r, 100))
  }
  return {
    url,
    pid: child.pid,
    stop: async () => {
      if (child.exitCode === null) {
        child.kill('SIGTERM')
        await new Promise(r => child.once('exit', r))
      }
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** BENCH_CPU_PROF=<dir>: the server writes a CPU profile (--cpu-prof) there when it stops. */
export const cpuProfileArgs = () => process.env.BENCH_CPU_PROF ? ['--cpu-prof', `--cpu-prof-dir=${resolve(process.env.BENCH_CPU_PROF)}`] : []

/**
 * A fresh SQLite file or PostgreSQL database (`kind` 'sqlite' | 'pg'): `{url, drop}`; with `template` (an earlier
 * `freshDatabase`, no longer in use) a copy of it: the file, or `CREATE DATABASE … TEMPLATE`.
 */
let copies = 0
export async function freshDatabase(kind, prefix = 'energyapp_bench', { template } = {}) {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'energyapp-bench-'))
    const file = join(dir, 'bench.db')
    if (template) copyFileSync(template.url.slice('file:'.length), file)
    return { url: `file:${file}`, drop: async () => rmSync(dir, { recursive: true, force: true }) }
  }
  const name = template ? `${prefix}_${process.pid}_${++copies}` : `${prefix}_${process.pid}`
  const admin = postgres(pgAdminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}${template ? ` template ${new URL(template.url).pathname.slice(1)}` : ''}`)
  await admin.end()
  const u = new URL(pgAdminUrl)
  u.pathname = `/${name}`
  return {
    url: u.toString(),
    drop: async () => {
      const c = postgres(pgAdminUrl, { max: 1, onnotice: () => {} })
      await c.unsafe(`drop database if exists ${name} with (force)`)
      await c.end()
    },
  }
}

/**
 * A fresh database opened for a bench's seed: `one(sql)` reads a row (the demo user's id, say), `insert(table, rows)`
 * writes rows keyed by column name in large batches, `done()` runs ANALYZE (SQLite) or VACUUM ANALYZE (PostgreSQL) as a
 * database in use would have, and closes. (The older benches each carry their own copy of this.)
 */
export async function seeder(kind, url) {
  if (kind === 'sqlite') {
    const { createClient } = await import('@libsql/client')
    const client = createClient({ url })
    const value = v => v instanceof Date ? v.getTime() : typeof v === 'boolean' ? Number(v) : v
    return {
      one: async text => (await client.execute(text)).rows[0],
      insert: async (table, rows) => {
        const columns = Object.keys(rows[0])
        for (const batch of chunks(rows, Math.floor(30_000 / columns.length))) {
          const placeholders = batch.map(() => `(${columns.map(() => '?').join(',')})`).join(',')
          await client.execute({ sql: `insert into ${table} (${columns.join(',')}) values ${placeholders}`, args: batch.flatMap(r => columns.map(c => value(r[c]))) })
        }
      },
      done: async () => { await client.execute('analyze'); client.close() },
    }
  }
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  return {
    one: async text => (await sql.unsafe(text))[0],
    insert: async (table, rows) => {
      for (const batch of chunks(rows, Math.floor(60_000 / Object.keys(rows[0]).length))) await sql`insert into ${sql(table)} ${sql(batch)}`
    },
    done: async () => { await sql`vacuum analyze`; await sql.end() },
  }
}

export async function pgReachable() {
  const sql = postgres(pgAdminUrl, { max: 1, connect_timeout: 3, onnotice: () => {} })
  try { await sql`select 1`; return true }
  catch { return false }
  finally { await sql.end({ timeout: 1 }).catch(() => {}) }
}

/** Signs in and returns the Cookie header value. */
export async function login(url, email, password) {
  const res = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) })
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status}`)
  return res.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
}

/** Batches of `size` from any iterable (arrays, generators). */
export function* chunks(iterable, size) {
  let batch = []
  for (const item of iterable) {
    batch.push(item)
    if (batch.length === size) { yield batch; batch = [] }
  }
  if (batch.length) yield batch
}

export const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]

/** Sequential GETs (one at a time: latency, not throughput) after 10 warm-up requests; paths from `pathFor(i)`. */
export async function measure(url, cookie, pathFor, requests) {
  for (let i = 0; i < 10; i++) await fetch(url + pathFor(i), { headers: { cookie } }).then(r => r.arrayBuffer())
  const times = []
  for (let i = 0; i < requests; i++) {
    const t0 = performance.now()
    const res = await fetch(url + pathFor(i), { headers: { cookie } })
    await res.arrayBuffer()
    times.push(performance.now() - t0)
    if (res.status !== 200) throw new Error(`${pathFor(i)} → ${res.status}`)
  }
  times.sort((a, b) => a - b)
  return { p50: pct(times, 50), p95: pct(times, 95), p99: pct(times, 99), max: times.at(-1) }
}

export const machine = () => `load average ${loadavg().map(n => n.toFixed(1)).join(' ')} on ${availableParallelism()} cores`

/** Prints a results table `{name: {p50, p95, p99, max}}` in Markdown. */
export function printTable(results) {
  console.log('| request | p50 ms | p95 ms | p99 ms | max ms |')
  console.log('|---|---|---|---|---|')
  for (const [name, r] of Object.entries(results))
    console.log(`| ${name} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.max.toFixed(1)} |`)
}

// ——— processes, Redis and streams (bench/scale.mjs, bench/stream.mjs) ———
export const sleep = ms => new Promise(r => setTimeout(r, ms))
export const quantile = (values, q) => { const s = [...values].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))] }
export const median = values => quantile(values, 0.5)
export async function waitFor(url) {
  for (let i = 0; i < 600; i++) {
    try { if ((await fetch(url)).ok) return }
    catch {}
    await sleep(100)
  }
  throw new Error(`${url} did not come up`)
}

export const start = (command, args, env) => spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'inherit'] })

/** The fake Ollama CLI (tests/support/fake-ollama-cli.ts) on `port`. */
export const startFakeOllama = (port, env) => start(process.execPath, [join(root, 'node_modules/jiti/lib/jiti-cli.mjs'), 'tests/support/fake-ollama-cli.ts'], { PORT: String(port), FAKE_FIRST_TOKEN_MS: '0', ...env })

/** A redis-server on a free loopback port, without persistence. */
export async function startRedis() {
  const binary = [process.env.REDIS_SERVER, '/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(p => p && existsSync(p))
  if (!binary) throw new Error('redis-server not found (set REDIS_SERVER)')
  const port = await freePort()
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  await sleep(300)
  return { url: `redis://127.0.0.1:${port}`, child }
}

/** A fresh database: a PostgreSQL database at TEST_PG_URL dropped afterwards, or a libSQL file in `dataDir`. */
export async function benchDatabase(kind, dataDir, label) {
  if (kind !== 'pg') return { url: `file:${join(dataDir, 'bench.db')}`, drop: async () => {} }
  const adminUrl = process.env.TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres'
  const name = `energyapp_bench_${label}_${process.pid}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: async () => { await admin.unsafe(`drop database if exists ${name} with (force)`); await admin.end() } }
}

/**
 * One streamed answer of the fake (`tok0 tok1 …`): time to the first token, token count, first-to-last time, and
 * each token's arrival (`performance.now()`).
 */
export async function measureStream(url, init) {
  const t0 = performance.now()
  const res = await fetch(url, init).catch((error) => { throw new Error(`${url}: ${error.cause?.message ?? error.message}`) })
  if (!res.ok) throw new Error(`${url} → ${res.status} ${await res.text()}`)
  const decoder = new TextDecoder()
  let first = null
  let last = null
  let tokens = 0
  const times = []
  let buffer = ''
  let ended = false
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true })
    const lines = buffer.split('\n')
    buffer = lines.pop()
    for (const line of lines) {
      if (/tok\d/.test(line)) { tokens++; last = performance.now(); first ??= last; times.push(last) }
      if (line.includes('"done":true') || line === 'event: done') ended = true
    }
  }
  if (!ended) throw new Error(`${url}: stream ended without done`)
  return { firstMs: first - t0, tokens, streamingMs: last - first, times }
}

/**
 * One conversation with two Markdown answers (the fake's `FAKE_RICH` text: heading, table, code) for the page benches,
 * through `POST /api/chat` at `site` as the signed-in `cookie`; its id.
 */
export async function seedConversation(site, cookie, exchanges = 2) {
  let conversationId
  const questions = ['¿Cómo reviso el factor de planta de nuestras centrales?', 'Resume la tabla por región, por favor.']
  for (let i = 0; i < exchanges; i++) {
    const message = questions[i % 2]
    const res = await fetch(`${site}/api/chat`, {
      method: 'POST',
      headers: { cookie, 'content-type': 'application/json', origin: site },
      body: JSON.stringify({ message, conversationId }),
    })
    if (!res.ok) throw new Error(`POST /api/chat → ${res.status} ${await res.text()}`)
    const body = await res.text()
    if (!body.includes('event: done')) throw new Error(`the seeded answer did not finish:\n${body.slice(-500)}`)
    conversationId ??= JSON.parse(/event: meta\ndata: (.*)/.exec(body)[1]).conversationId
  }
  return conversationId
}

/**
 * The main thread of the page a trace measured: the busiest CrRendererMain thread of the renderer process whose
 * navigation went to `site`. (Busiest alone is not enough: Chromium's new-tab page can be in the same trace and
 * busier.) Also the page's last navigationStart, or undefined.
 */
export function pageMainThread(events, site) {
  const names = new Set(events.filter(e => e.name === 'thread_name' && e.args?.name === 'CrRendererMain').map(e => `${e.pid}:${e.tid}`))
  const busy = {}
  for (const e of events) {
    const key = `${e.pid}:${e.tid}`
    if (e.dur && names.has(key) && (e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask')) busy[key] = (busy[key] ?? 0) + e.dur
  }
  const navigation = events.filter(e => e.name === 'navigationStart' && String(e.args?.data?.documentLoaderURL ?? '').startsWith(site)).at(-1)
  const [key] = Object.entries(busy).filter(([k]) => !navigation || k.startsWith(`${navigation.pid}:`)).sort((a, b) => b[1] - a[1])[0]
    ?? [`${events[0]?.pid}:${events[0]?.tid}`]
  const [pid, tid] = key.split(':').map(Number)
  return { pid, tid, navigation }
}
