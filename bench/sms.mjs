// SMS channel benchmark (run by hand; not a test): N inbound SMS from N registered users spread over a few
// seconds, signed like Twilio signs them, against the built server with the fake Ollama and the fake Twilio.
// Every message must be answered exactly once; reports the webhook's p50/p95 latency (it only stores and
// enqueues: target p95 < 20 ms) and the time from webhook to reply accepted by Twilio.
//
//   node bench/sms.mjs [--messages 200] [--seconds 10] [--pg] [--split] [--profile DIR]
//
// --split runs the documented two-process topology: the process that takes the webhook has JOBS_WORKER=false
// (it only stores and enqueues), a second process runs the job worker; both share the database and a
// redis-server (REDIS_URL, required for several processes on one database). Without it, one process does both.
// BENCH_LOG_LEVEL=warn shows the servers' warnings (a failed job and why).
// --profile writes the server's CPU profile (node --cpu-prof) into DIR when it stops (each process's, with --split).
//
// Uses the build in $NUXT_OUTPUT_DIR (default .output; run `npm run build` first). --pg uses PostgreSQL at
// TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres) instead of a libSQL file.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { loadavg, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { createClient } from '@libsql/client'
import { createJiti } from 'jiti'
import postgres from 'postgres'
import { uuidv7 } from 'uuidv7'
import { benchArgs } from './args.mjs'

const { values: args } = benchArgs({ options: { messages: { type: 'string', default: '200' }, seconds: { type: 'string', default: '10' }, pg: { type: 'boolean', default: false }, split: { type: 'boolean', default: false }, profile: { type: 'string' } } })
const MESSAGES = Number(args.messages)
const SPREAD_MS = Number(args.seconds) * 1000
const root = resolve(import.meta.dirname, '..')
const output = resolve(root, process.env.NUXT_OUTPUT_DIR || '.output')
if (!existsSync(join(output, 'server/index.mjs'))) {
  console.error(`no build at ${output}; run npm run build (or set NUXT_OUTPUT_DIR)`)
  process.exit(1)
}
const jiti = createJiti(import.meta.url)
const { FakeOllama } = await jiti.import(join(root, 'tests/support/fake-ollama.ts'))
const { FakeTwilio, signTwilio } = await jiti.import(join(root, 'tests/support/fake-twilio.ts'))
const { startRedis } = await import('./support.mjs')
const { cpuMs } = await import('./load-support.mjs')

const TWILIO = { TWILIO_ACCOUNT_SID: 'ACbench0000000000000000000000000000', TWILIO_AUTH_TOKEN: 'bench-token-0123456789', TWILIO_PHONE_NUMBER: '+15005550006' }
const freePort = () => new Promise((ok, fail) => {
  const srv = createServer().on('error', fail)
  srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => ok(port)) })
})
const pct = (values, p) => { const s = [...values].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))] }
const sleep = ms => new Promise(resolve => setTimeout(resolve, ms))

// database
let databaseUrl, dropDatabase
const dir = mkdtempSync(join(tmpdir(), 'energyapp-bench-sms-'))
if (args.pg) {
  const adminUrl = process.env.TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres'
  const name = `energyapp_bench_sms_${process.pid}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  await admin.end()
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  databaseUrl = url.toString()
  dropDatabase = async () => { const c = postgres(adminUrl, { max: 1, onnotice: () => {} }); await c.unsafe(`drop database if exists ${name} with (force)`); await c.end() }
}
else {
  databaseUrl = `file:${join(dir, 'bench.db')}`
  dropDatabase = async () => {}
}
async function sql(text, params = []) {
  if (args.pg) { const c = postgres(databaseUrl, { max: 1, onnotice: () => {} }); let n = 0; try { return await c.unsafe(text.replace(/\?/g, () => `$${++n}`), params) } finally { await c.end() } }
  const c = createClient({ url: databaseUrl })
  try { return (await c.execute({ sql: text, args: params })).rows }
  finally { c.close() }
}

const model = await new FakeOllama().start()
const twilio = await new FakeTwilio().start()
const redis = args.split ? await startRedis() : undefined
const port = await freePort()
const origin = `http://127.0.0.1:${port}`
const baseEnv = { PATH: process.env.PATH, NODE_ENV: 'test', LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'silent', SESSION_SECRET: 'bench-secret-bench-secret-bench-secret-0123', DATABASE_URL: databaseUrl, DATA_DIR: dir, HOST: '127.0.0.1', PUBLIC_ORIGIN: origin, OLLAMA_HOST: model.url, TWILIO_API_BASE: twilio.url, REGISTRATION_DOMAINS: 'bench.local', DEMO_ACCOUNTS: 'false', ...TWILIO, ...(redis ? { REDIS_URL: redis.url } : {}) }
const startApp = (appPort, env = {}) => spawn(process.execPath, [...(args.profile ? ['--cpu-prof', `--cpu-prof-dir=${resolve(args.profile)}`] : []), join(output, 'server/index.mjs')], {
  env: { ...baseEnv, PORT: String(appPort), ...env },
  stdio: 'inherit',
})
const waitHealthy = async (url) => {
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${url}/api/health`)).ok) return }
    catch {}
    if (i > 600) throw new Error(`${url}: server did not start`)
    await sleep(100)
  }
}
// the webhook's process; with --split it only enqueues and a second process (started after it migrated) works
const server = startApp(port, args.split ? { JOBS_WORKER: 'false' } : {})
const servers = [server]
try {
  await waitHealthy(origin)
  if (args.split) {
    const workerPort = await freePort()
    servers.push(startApp(workerPort))
    await waitHealthy(`http://127.0.0.1:${workerPort}`)
  }
  // N users with verified phones, written straight into the database (they never sign in)
  const phones = Array.from({ length: MESSAGES }, (_, i) => `+5698${String(i).padStart(7, '0')}`)
  for (const [i, phone] of phones.entries()) {
    await sql('insert into users (id, email, password_hash, full_name, phone, phone_verified_at) values (?, ?, ?, ?, ?, ?)',
      [uuidv7(), `sms${i}@bench.local`, 'x', `Bench ${i}`, phone, args.pg ? new Date().toISOString() : Date.now()])
  }

  const path = '/api/channels/twilio/sms'
  const latencies = []
  const sentAt = new Map()
  const statuses = []
  let resent = 0
  const t0 = performance.now()
  const cpu0 = servers.map(child => cpuMs(child.pid))
  await Promise.all(phones.map(async (phone, i) => {
    await sleep((SPREAD_MS * i) / MESSAGES)
    const form = { AccountSid: TWILIO.TWILIO_ACCOUNT_SID, From: phone, To: TWILIO.TWILIO_PHONE_NUMBER, Body: `Hola ${i}`, MessageSid: `SMbench${String(i).padStart(27, '0')}` }
    const start = performance.now()
    sentAt.set(phone, Date.now())
    const post = () => fetch(origin + path, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilio(TWILIO.TWILIO_AUTH_TOKEN, origin + path, form) }, body: new URLSearchParams(form) })
    // a kept-alive connection the server closed just as it was reused (seen at load ≈ 20): sent again, as Twilio
    // would; the same MessageSid is stored once (its dedupe key), so this cannot double an answer. At load ≈ 35 the
    // reset also arrives as ECONNRESET (5 of 6 runs of the debts branch's A/B ended on it)
    const res = await post().catch((error) => { if (!['UND_ERR_SOCKET', 'ECONNRESET'].includes(error.cause?.code)) throw error; resent++; return post() })
    await res.text()
    latencies.push(performance.now() - start)
    statuses.push(res.status)
  }))
  const deadline = Date.now() + 300_000
  while (new Set(twilio.accepted.map(p => p.to)).size < MESSAGES && Date.now() < deadline) await sleep(100)
  await sleep(2000)
  const cpu = servers.map((child, i) => +((cpuMs(child.pid) - cpu0[i]) / MESSAGES).toFixed(2))
  const perNumber = new Map()
  for (const p of twilio.accepted) perNumber.set(p.to, [...(perNumber.get(p.to) ?? []), p])
  const replyMs = phones.filter(p => perNumber.has(p)).map(p => perNumber.get(p)[0].at - sentAt.get(p))
  const answeredOnce = phones.filter(p => perNumber.get(p)?.length === 1).length
  console.log(JSON.stringify({
    database: args.pg ? 'postgres' : 'sqlite',
    topology: args.split ? 'split: web (JOBS_WORKER=false) + worker process, REDIS_URL' : 'one process',
    messages: MESSAGES,
    spreadSeconds: SPREAD_MS / 1000,
    webhook200: statuses.filter(s => s === 200).length,
    webhookResent: resent,
    answeredExactlyOnce: answeredOnce,
    unanswered: phones.filter(p => !perNumber.has(p)).length,
    duplicates: phones.filter(p => (perNumber.get(p)?.length ?? 0) > 1).length,
    modelCalls: model.chatRequests.length,
    webhookMs: { p50: +pct(latencies, 0.5).toFixed(1), p95: +pct(latencies, 0.95).toFixed(1), max: +Math.max(...latencies).toFixed(1) },
    replyMs: replyMs.length ? { p50: pct(replyMs, 0.5), p95: pct(replyMs, 0.95), max: Math.max(...replyMs) } : null,
    // server CPU (user + system) per SMS over the burst and its replies; with --split: [web process, worker process]
    serverCpuMsPerSms: cpu,
    totalSeconds: +((performance.now() - t0) / 1000).toFixed(1),
    loadAverage: loadavg().map(n => +n.toFixed(1)),
  }, null, 2))
  if (answeredOnce !== MESSAGES) process.exitCode = 1
}
finally {
  await Promise.all(servers.map(child => new Promise((resolve) => {
    if (child.exitCode !== null) return resolve()
    child.once('exit', resolve)
    child.kill('SIGTERM')
  })))
  redis?.child.kill('SIGKILL')
  await model.close()
  await twilio.close()
  await dropDatabase()
  rmSync(dir, { recursive: true, force: true })
}
