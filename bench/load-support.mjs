// Load-loop helpers for bench/lists.mjs and bench/search.mjs (run by hand, not tests): bulk seeding straight into
// the tables, concurrent clients, server CPU per request. The server start, fresh databases and ports come from
// bench/support.mjs.
import { readFileSync } from 'node:fs'
import { availableParallelism, loadavg } from 'node:os'
import { join } from 'node:path'
import { createClient } from '@libsql/client'
import postgres from 'postgres'
import { keepAliveClient, ownCpuMs } from './http-client.mjs'
import { freePort, freshDatabase, pgAdminUrl, pgReachable, requireBuild, root, startServer as startBuiltServer } from './support.mjs'

export { freePort, pgAdminUrl, pgReachable, requireBuild, root }

/** The built server on `databaseUrl` (bench/support.mjs's startServer, positional form). */
export const startServer = (databaseUrl, env = {}, options = {}) => startBuiltServer({ databaseUrl, env, ...options })

/** A fresh database of `kind` ('sqlite' | 'pg'), named apart from any other this process made. */
export const createDatabase = kind => freshDatabase(kind, `energyapp_bench_${Date.now() % 100000}`)

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
      close: () => sql.end(),
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
    close: async () => client.close(),
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
 * The CPU time (ms) used so far by the PostgreSQL backends serving database `url` (pg_stat_activity's pids, read
 * from /proc: the database runs on this machine), as a meter: `meter()` reads the start, `meter.since()` the ms
 * spent since — backends that opened meanwhile count whole. Null for SQLite (the database is the server process).
 */
export async function databaseCpu(url) {
  if (!url?.startsWith('postgres')) return null
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  const name = new URL(url).pathname.slice(1)
  const backends = async () => (await sql`select pid from pg_stat_activity where datname = ${name} and pid <> pg_backend_pid()`).map(r => r.pid)
  const start = new Map()
  return {
    start: async () => { start.clear(); for (const pid of await backends()) start.set(pid, cpuMs(pid) ?? 0) },
    since: async () => {
      let ms = 0
      for (const pid of await backends()) ms += (cpuMs(pid) ?? 0) - (start.get(pid) ?? 0)
      return ms
    },
    close: () => sql.end(),
  }
}

/**
 * `concurrency` keep-alive clients (one connection each, bench/http-client.mjs) back to back for `seconds` (after a
 * short warm-up), each reading the whole body and checking the status: req/s, latency percentiles, this generator's
 * own CPU per request (`clientCpu`) and, with `pid`, the server's (`cpu`: the number that holds on a busy machine);
 * with `databaseUrl` on PostgreSQL, also the database backends' CPU per request (`dbCpu`).
 */
export async function load(url, cookie, pathFor, { concurrency = 1, seconds = 5, requests = Infinity, pid, databaseUrl } = {}) {
  const clients = Array.from({ length: concurrency }, () => keepAliveClient(url))
  const headers = { cookie }
  for (let i = 0; i < 20; i++) await clients[i % concurrency].request(pathFor(i), { headers })
  const times = []
  let n = 0
  const db = await databaseCpu(databaseUrl)
  await db?.start()
  const cpu0 = pid ? cpuMs(pid) : null
  const own0 = ownCpuMs()
  const end = performance.now() + seconds * 1000
  const started = performance.now()
  await Promise.all(clients.map(async (client) => {
    while (performance.now() < end && n < requests) {
      const i = n++
      const t0 = performance.now()
      const res = await client.request(pathFor(i), { headers })
      times.push(performance.now() - t0)
      if (res.status !== 200) throw new Error(`${pathFor(i)} → ${res.status}`)
    }
  }))
  const elapsed = (performance.now() - started) / 1000
  const clientCpu = (ownCpuMs() - own0) / times.length
  for (const client of clients) client.close()
  times.sort((a, b) => a - b)
  const cpu = cpu0 === null ? null : (cpuMs(pid) - cpu0) / times.length
  const dbCpu = db ? (await db.since()) / times.length : null
  await db?.close()
  return { rps: times.length / elapsed, p50: pct(times, 50), p95: pct(times, 95), p99: pct(times, 99), count: times.length, cpu, dbCpu, clientCpu }
}

export const loadText = () => `load average ${loadavg().map(n => n.toFixed(1)).join(' ')} on ${availableParallelism()} cores`

export const row = (name, r) => `| ${name} | ${r.rps.toFixed(0)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.cpu?.toFixed(2) ?? '–'} | ${r.dbCpu?.toFixed(2) ?? '–'} | ${r.clientCpu.toFixed(2)} |`
export const HEADER = '| request | req/s | p50 ms | p95 ms | p99 ms | server CPU ms/req | PostgreSQL CPU ms/req | bench client CPU ms/req |\n|---|---|---|---|---|---|---|---|'
