// Auth throughput, run by hand: `node bench/auth.mjs [--seconds 10] [--concurrency 16] [--pg]`.
// Starts the built server (building first if the sources changed) on a throw-away database, then measures
// POST /api/auth/login and GET /api/auth/me with N concurrent keep-alive clients over loopback, and one
// argon2id hash/verify in this process. Client and server share the machine's cores: the numbers are a floor.
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { hash, verify } from '@node-rs/argon2'
import postgres from 'postgres'
import { outputDir } from '../scripts/build-state.mjs'
import { keepAliveClient, ownCpuMs } from './http-client.mjs'
import { cpuMs } from './load-support.mjs'
import { benchBuild } from './support.mjs'
import { benchArgs } from './args.mjs'

const { values: opts } = benchArgs({
  options: {
    seconds: { type: 'string', default: '10' },
    concurrency: { type: 'string', default: '16' },
    pg: { type: 'boolean', default: false },
  },
})
const SECONDS = Math.min(Math.max(Number(opts.seconds) || 10, 1), 60)
const CONCURRENCY = Math.min(Math.max(Number(opts.concurrency) || 16, 1), 256)
const WORKER = { email: 'trabajador@example.com', password: 'worker123' }
const PG_ADMIN_URL = process.env.TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres'

const percentile = (sorted, p) => sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] : NaN
const ms = n => `${n.toFixed(1)} ms`

/** argon2id with the app's parameters (server/services/passwords.ts). */
async function argon2Cost(rounds = 10) {
  const options = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 }
  const hashTimes = []
  const verifyTimes = []
  let stored = ''
  for (let i = 0; i < rounds; i++) {
    let t = performance.now()
    stored = await hash(`bench-password-${i}`, options)
    hashTimes.push(performance.now() - t)
    t = performance.now()
    await verify(stored, `bench-password-${i}`)
    verifyTimes.push(performance.now() - t)
  }
  const median = xs => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
  return { hashMs: median(hashTimes), verifyMs: median(verifyTimes) }
}

async function freshDatabase() {
  const dir = mkdtempSync(join(tmpdir(), 'energyapp-bench-'))
  if (!opts.pg) return { url: `file:${join(dir, 'bench.db')}`, dir, drop: async () => {} }
  const name = `energyapp_bench_${process.pid}`
  const admin = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  await admin.end()
  const url = new URL(PG_ADMIN_URL)
  url.pathname = `/${name}`
  return {
    url: url.toString(),
    dir,
    drop: async () => {
      const c = postgres(PG_ADMIN_URL, { max: 1, onnotice: () => {} })
      await c.unsafe(`drop database if exists ${name} with (force)`)
      await c.end()
    },
  }
}

async function startServer(databaseUrl, dataDir) {
  const port = 30_000 + Math.floor(Math.random() * 20_000)
  const url = `http://127.0.0.1:${port}`
  const child = spawn(process.execPath, [join(outputDir(), 'server', 'index.mjs')], {
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'production',
      LOG_LEVEL: 'silent',
      PORT: String(port),
      HOST: '127.0.0.1',
      PUBLIC_ORIGIN: url,
      DATABASE_URL: databaseUrl,
      DATA_DIR: dataDir,
      DEMO_ACCOUNTS: 'true',
      SESSION_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
      OLLAMA_HOST: 'http://127.0.0.1:9',
      // the bench signs in thousands of times from one address
      LOGIN_RATE_LIMIT: '100000000/1m',
      LOGIN_IP_RATE_LIMIT: '100000000/1m',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  const deadline = Date.now() + 60_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`)
    try { if ((await fetch(`${url}/api/health`)).ok) break }
    catch {}
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error('server did not start in 60 s') }
    await new Promise(r => setTimeout(r, 100))
  }
  return { url, pid: child.pid, stop: () => new Promise((ok) => { child.once('exit', ok); child.kill('SIGTERM') }) }
}

/**
 * N clients, each one keep-alive connection (bench/http-client.mjs), sending `request(client)` back to back for
 * `seconds`; latencies of the 2xx answers, the server's CPU per request and this generator's own.
 */
async function load(name, request, pid, url) {
  const clients = Array.from({ length: CONCURRENCY }, () => keepAliveClient(url))
  const latencies = []
  let errors = 0
  const end = performance.now() + SECONDS * 1000
  const started = performance.now()
  const cpu0 = pid ? cpuMs(pid) : null
  const own0 = ownCpuMs()
  await Promise.all(clients.map(async (client) => {
    while (performance.now() < end) {
      const t = performance.now()
      try {
        const res = await request(client)
        if (res.status >= 200 && res.status < 300) latencies.push(performance.now() - t)
        else errors++
      }
      catch { errors++ }
    }
  }))
  const elapsed = (performance.now() - started) / 1000
  const total = Math.max(1, latencies.length + errors)
  for (const client of clients) client.close()
  latencies.sort((a, b) => a - b)
  // the server's CPU per request: the figure that holds when other work shares the cores
  const cpu = cpu0 === null ? null : (cpuMs(pid) - cpu0) / total
  return { name, requests: latencies.length, errors, rps: latencies.length / elapsed, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), cpu, clientCpu: (ownCpuMs() - own0) / total }
}

async function main() {
  benchBuild({ quiet: true })
  console.log(`auth bench: ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}, ${opts.pg ? 'PostgreSQL' : 'SQLite'}, ${CONCURRENCY} clients, ${SECONDS} s per route`)
  const argon = await argon2Cost()
  console.log(`argon2id m=19456,t=2,p=1: hash ${ms(argon.hashMs)}, verify ${ms(argon.verifyMs)} (median of 10, one at a time)`)

  const db = await freshDatabase()
  const server = await startServer(db.url, db.dir)
  try {
    const body = JSON.stringify(WORKER)
    const headers = { 'content-type': 'application/json' }
    const login = () => fetch(`${server.url}/api/auth/login`, { method: 'POST', headers, body })
    const first = await login()
    const cookie = first.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
    if (first.status !== 200 || !cookie) throw new Error(`login failed: ${first.status}`)

    const results = [
      await load('POST /api/auth/login', client => client.request('/api/auth/login', { method: 'POST', headers, body }), server.pid, server.url),
      await load('GET  /api/auth/me', client => client.request('/api/auth/me', { headers: { cookie } }), server.pid, server.url),
    ]
    console.log(`\n${loadavg().map(n => n.toFixed(1)).join(' ')} load average`)
    console.log('route                  requests  errors   req/s     p50       p99   server CPU/req  bench client CPU/req')
    for (const r of results)
      console.log(`${r.name.padEnd(22)} ${String(r.requests).padStart(8)} ${String(r.errors).padStart(7)} ${r.rps.toFixed(1).padStart(7)} ${ms(r.p50).padStart(9)} ${ms(r.p99).padStart(9)} ${(r.cpu === null ? '–' : `${r.cpu.toFixed(3)} ms`).padStart(14)}  ${r.clientCpu.toFixed(3)} ms`)
    console.log(`\n${JSON.stringify({ cores: cpus().length, db: opts.pg ? 'pg' : 'sqlite', concurrency: CONCURRENCY, seconds: SECONDS, argon2: argon, results })}`)
  }
  finally {
    await server.stop()
    await db.drop()
    rmSync(db.dir, { recursive: true, force: true })
  }
}

main().catch((error) => { console.error(`auth bench failed: ${error.message}`); process.exit(1) })
