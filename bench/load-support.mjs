// Load-loop helpers for bench/lists.mjs and bench/search.mjs (bulk seeding, concurrent clients, CPU per request).
// Shared by the benches (run by hand, not tests): a throw-away database, the built server started on it, bulk
// seeding straight into the tables, and timing helpers. Kept small and generic: each bench owns its data shape.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { availableParallelism, loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createClient } from '@libsql/client'
import postgres from 'postgres'

export const root = resolve(import.meta.dirname, '..')
export const output = resolve(root, process.env.NUXT_OUTPUT_DIR || '.output')
export const pgAdminUrl = process.env.TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres'

export function requireBuild() {
  if (existsSync(join(output, 'server/index.mjs'))) return
  console.error(`no build at ${output}; run npm run build (or set NUXT_OUTPUT_DIR)`)
  process.exit(1)
}

export const freePort = () => new Promise((ok, fail) => {
  const srv = createServer().on('error', fail)
  srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => ok(port)) })
})

/** The built server (NODE_ENV=production) on `databaseUrl`, with the demo accounts; `env` adds or overrides. */
export async function startServer(databaseUrl, env = {}) {
  const port = await freePort()
  const dataDir = mkdtempSync(join(tmpdir(), 'energyapp-bench-data-'))
  const child = spawn(process.execPath, [join(output, 'server/index.mjs')], {
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
    if (await fetch(`${url}/api/health`).then(r => r.ok, () => false)) break
    if (i > 1200) throw new Error('server did not start')
    await new Promise(r => setTimeout(r, 100))
  }
  return {
    url,
    pid: child.pid,
    stop: async () => {
      child.kill('SIGTERM')
      if (child.exitCode === null) await new Promise(r => child.once('exit', r))
      rmSync(dataDir, { recursive: true, force: true })
    },
  }
}

/** A fresh database of `kind` ('sqlite' | 'pg'): its URL and how to drop it. */
export async function createDatabase(kind) {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'energyapp-bench-'))
    return { url: `file:${join(dir, 'bench.db')}`, drop: async () => rmSync(dir, { recursive: true, force: true }) }
  }
  const name = `energyapp_bench_${process.pid}_${Date.now() % 100000}`
  const admin = postgres(pgAdminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
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

export async function pgReachable() {
  const sql = postgres(pgAdminUrl, { max: 1, connect_timeout: 3, onnotice: () => {} })
  try { await sql`select 1`; return true }
  catch { return false }
  finally { await sql.end({ timeout: 1 }).catch(() => {}) }
}

function* chunks(iterable, size) {
  let batch = []
  for (const item of iterable) {
    batch.push(item)
    if (batch.length === size) { yield batch; batch = [] }
  }
  if (batch.length) yield batch
}

/**
 * A bulk writer on `url` (after the server migrated it): `insert(table, rows)` takes any iterable of row
 * objects with snake_case keys (Dates and booleans converted per dialect), in multi-row INSERTs inside
 * transactions; `query(text)` runs raw SQL; `demoPasswordHash` lets seeded users sign in with admin123.
 */
export async function bulkWriter(url) {
  if (url.startsWith('postgres')) {
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    return {
      insert: async (table, rows) => {
        for (const batch of chunks(rows, 2000)) await sql`insert into ${sql(table)} ${sql(batch)}`
      },
      query: text => sql.unsafe(text),
      demoPasswordHash: (await sql`select password_hash from users where email = 'admin@example.com'`)[0].password_hash,
      // autovacuum would do this within a minute of such a load; without statistics the planner seq-scans
      finish: async () => { await sql`vacuum analyze`; await sql.end() },
    }
  }
  const client = createClient({ url })
  const value = v => v instanceof Date ? v.getTime() : typeof v === 'boolean' ? Number(v) : v
  return {
    insert: async (table, rows) => {
      for (const batch of chunks(rows, 20_000)) {
        const columns = Object.keys(batch[0])
        const statements = [...chunks(batch, Math.floor(30_000 / columns.length))].map(part => ({
          sql: `insert into ${table} (${columns.join(',')}) values ${part.map(() => `(${columns.map(() => '?').join(',')})`).join(',')}`,
          args: part.flatMap(r => columns.map(c => value(r[c]))),
        }))
        await client.batch(statements, 'write')
      }
    },
    query: async text => (await client.execute(text)).rows,
    demoPasswordHash: (await client.execute(`select password_hash from users where email = 'admin@example.com'`)).rows[0].password_hash,
    finish: async () => { await client.execute('analyze'); client.close() },
  }
}

export async function login(url, email, password = 'admin123') {
  const res = await fetch(`${url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) })
  if (res.status !== 200) throw new Error(`login ${email}: ${res.status}`)
  return res.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
}

const pct = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]

/** CPU time (ms) a process has used so far, user + system (Linux /proc; null elsewhere). */
export function cpuMs(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100
  }
  catch { return null }
}

/**
 * `concurrency` keep-alive clients back to back for `seconds` (after a short warm-up): req/s, latency
 * percentiles and, with `pid`, the server's CPU per request (the number that holds on a busy machine).
 */
export async function load(url, cookie, pathFor, { concurrency = 1, seconds = 5, requests = Infinity, pid } = {}) {
  for (let i = 0; i < 20; i++) await fetch(url + pathFor(i), { headers: { cookie } }).then(r => r.arrayBuffer())
  const times = []
  let n = 0
  const cpu0 = pid ? cpuMs(pid) : null
  const end = performance.now() + seconds * 1000
  const started = performance.now()
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (performance.now() < end && n < requests) {
      const i = n++
      const t0 = performance.now()
      const res = await fetch(url + pathFor(i), { headers: { cookie } })
      await res.arrayBuffer()
      times.push(performance.now() - t0)
      if (res.status !== 200) throw new Error(`${pathFor(i)} → ${res.status}`)
    }
  }))
  const elapsed = (performance.now() - started) / 1000
  times.sort((a, b) => a - b)
  const cpu = cpu0 === null ? null : (cpuMs(pid) - cpu0) / times.length
  return { rps: times.length / elapsed, p50: pct(times, 50), p95: pct(times, 95), p99: pct(times, 99), count: times.length, cpu }
}

export const loadText = () => `load average ${loadavg().map(n => n.toFixed(1)).join(' ')} on ${availableParallelism()} cores`

export const row = (name, r) => `| ${name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.cpu?.toFixed(2) ?? '–'} |`
export const HEADER = '| request | req/s | p50 ms | p95 ms | p99 ms | server CPU ms/req |\n|---|---|---|---|---|---|'
