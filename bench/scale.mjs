// Several app processes on one database and one Redis, behind Caddy, against one or two model servers (issue 14).
//   node bench/scale.mjs        (~3–4 minutes; NUXT_OUTPUT_DIR picks the build; it is built when stale)
// Env: BENCH_PROCESSES (1,2,3), BENCH_OLLAMAS (1,2), BENCH_C (50 streams at once), BENCH_ROUNDS (3),
// BENCH_TOKENS (20 per answer in the throughput run), BENCH_DELAY_MS (40 ms/token), BENCH_MODEL_PARALLEL (4 answers
// generated at once per model server in the throughput run, like OLLAMA_NUM_PARALLEL), BENCH_DB (pg | sqlite; pg).
// The defaults make one model server 100 tok/s (4 × 1000/40), far below what the app streams even on a busy 2-core
// machine, so the model is the bottleneck: the ideal is 100 tok/s with one server and 200 with two.
//
// For every (processes, model servers) pair: N built app processes with REDIS_URL (queue, limits, pool load shared),
// OLLAMA_HOSTS naming 1 or 2 fake Ollamas, Caddy in front with the N processes as upstreams (the repo's Caddyfile),
// c users streaming at once through Caddy. Two measures:
// - first-token latency: c answers of 5 tokens at once, model servers unlimited (the app is what is measured);
//   the median per round, then the median of BENCH_ROUNDS rounds (p99 of all rounds beside it);
// - throughput when the model is the bottleneck: each fake generates at most BENCH_MODEL_PARALLEL answers at once
//   (the rest wait, as Ollama does), c answers of BENCH_TOKENS tokens; tokens delivered / wall time.
// maxConcurrentGenerations is c, so the app's own queue never limits. Load average is printed: compare on a quiet machine.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { outputDir } from '../scripts/build-state.mjs'
import { ensureBuild } from '../scripts/ensure-build.mjs'
import { benchDatabase, freePort, measureStream, median, quantile, root, sleep, start, startFakeOllama, startRedis, waitFor } from './support.mjs'

const list = (value, fallback) => (value || fallback).split(',').map(Number)
const PROCESSES = list(process.env.BENCH_PROCESSES, '1,2,3')
const OLLAMAS = list(process.env.BENCH_OLLAMAS, '1,2')
const C = Number(process.env.BENCH_C || 50)
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3)
const TOKENS = Number(process.env.BENCH_TOKENS || 20)
const DELAY = Number(process.env.BENCH_DELAY_MS ?? 40)
const PARALLEL = Number(process.env.BENCH_MODEL_PARALLEL || 4)
const KIND = process.env.BENCH_DB || 'pg'
const MODEL = 'qwen2.5:3b-instruct'
const CADDY = ['/usr/bin/caddy', '/usr/local/bin/caddy'].find(p => existsSync(p))

const load = () => loadavg().map(x => x.toFixed(1)).join(' ')

async function startApps(n, env) {
  const apps = []
  for (let i = 0; i < n; i++) {
    const port = await freePort()
    apps.push({ port, url: `http://127.0.0.1:${port}`, child: start(process.execPath, [join(outputDir(), 'server/index.mjs')], { ...env, PORT: String(port) }) })
  }
  await Promise.all(apps.map(app => waitFor(`${app.url}/api/health`)))
  return apps
}

async function stop(children) {
  await Promise.all(children.map(child => new Promise((resolve) => {
    if (!child || child.exitCode !== null) return resolve()
    child.once('exit', resolve)
    child.kill('SIGTERM')
  })))
}

async function startCaddy(port, apps, logDir) {
  const site = `http://127.0.0.1:${port}`
  const child = spawn(CADDY, ['run', '--config', join(root, 'Caddyfile'), '--adapter', 'caddyfile'], {
    env: { ...process.env, SITE_ADDRESS: site, APP_UPSTREAM: apps.map(a => `127.0.0.1:${a.port}`).join(' '), CADDY_LOG_DIR: logDir, CADDY_ADMIN: `127.0.0.1:${await freePort()}` },
    stdio: 'ignore',
  })
  await waitFor(`${site}/api/health`)
  return { site, child }
}

/** Sets knobs of the fake Ollamas (tests/support/fake-ollama.ts `POST /_fake/set`). */
const tune = (hosts, change) => Promise.all(hosts.map(host => fetch(`${host}/_fake/set`, { method: 'POST', body: JSON.stringify(change) })))

async function main() {
  ensureBuild({ quiet: true })
  if (!CADDY) throw new Error('caddy not found (apt install caddy)')
  const dataDir = mkdtempSync(join(tmpdir(), 'energyapp-bench-scale-'))
  const db = await benchDatabase(KIND, dataDir, 'scale')
  const redis = await startRedis()
  const fakePorts = await Promise.all([0, 1].map(() => freePort()))
  const fakes = fakePorts.map(port => startFakeOllama(port, { FAKE_DELAY_MS: String(DELAY), FAKE_MODELS: MODEL }))
  const hosts = fakePorts.map(port => `http://127.0.0.1:${port}`)
  const env = {
    NODE_ENV: 'production', LOG_LEVEL: 'silent', SESSION_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
    DATABASE_URL: db.url, DATA_DIR: dataDir, REDIS_URL: redis.url, DEMO_ACCOUNTS: 'false', REGISTRATION_DOMAINS: 'bench.local',
    OLLAMA_MODEL: MODEL, MAX_CONCURRENT_GENERATIONS: String(C), MODEL_CHECK_MS: '2000',
    CHAT_RATE_LIMIT: '1000000/1m', LOGIN_IP_RATE_LIMIT: '1000000/15m', MESSAGE_RATE_LIMIT: '1000000/1m', HOST: '127.0.0.1',
  }
  const rows = []
  let running = []
  const started = Date.now()
  try {
    await Promise.all(hosts.map(host => waitFor(`${host}/api/version`)))
    // the users once, on one process that also migrates the fresh database (sessions live in it: every process accepts them)
    const [first] = await startApps(1, { ...env, OLLAMA_HOST: hosts[0], PUBLIC_ORIGIN: 'http://127.0.0.1' })
    running = [first.child]
    const users = await Promise.all(Array.from({ length: C }, async (_, i) => {
      const res = await fetch(`${first.url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `scale${i}@bench.local`, password: 'bench-password-123', fullName: `Bench ${i}` }) })
      if (res.status !== 201) throw new Error(`register → ${res.status} ${await res.text()}`)
      const cookie = res.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
      const conv = await (await fetch(`${first.url}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ title: 'bench' }) })).json()
      return { cookie, conversationId: conv.id }
    }))
    await stop([first.child])

    for (const k of OLLAMAS) {
      for (const n of PROCESSES) {
        const port = await freePort()
        const apps = await startApps(n, { ...env, PUBLIC_ORIGIN: `http://127.0.0.1:${port}`, OLLAMA_HOST: hosts[0], OLLAMA_HOSTS: hosts.slice(0, k).join(',') })
        const logDir = mkdtempSync(join(tmpdir(), 'energyapp-bench-caddy-'))
        const caddy = await startCaddy(port, apps, logDir)
        running = [...apps.map(a => a.child), caddy.child]
        const all = tokens => Promise.all(users.map(u => measureStream(`${caddy.site}/api/chat`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'cookie': u.cookie },
          body: JSON.stringify({ message: `bench ${tokens}`, conversationId: u.conversationId }),
        })))
        // first-token latency, model servers unlimited
        await tune(hosts, { concurrency: null, delayMs: 10 })
        await all(5) // warm-up: connections, JIT, caches
        const medians = []
        const firsts = []
        for (let round = 0; round < ROUNDS; round++) {
          const r = (await all(5)).map(x => x.firstMs)
          medians.push(median(r))
          firsts.push(...r)
        }
        // throughput with the model as the bottleneck: PARALLEL answers at once per server
        await tune(hosts, { concurrency: PARALLEL, delayMs: DELAY })
        const t0 = performance.now()
        const long = await all(TOKENS)
        const wall = (performance.now() - t0) / 1000
        const tokens = long.reduce((sum, x) => sum + x.tokens, 0)
        rows.push({ k, n, first: median(medians), p99: quantile(firsts, 0.99), spread: [Math.min(...medians), Math.max(...medians)], throughput: tokens / wall, complete: long.filter(x => x.tokens === TOKENS).length, load: load() })
        console.error(`${n} process(es), ${k} model server(s): first token ${median(medians).toFixed(1)} ms, ${Math.round(tokens / wall)} tok/s (load ${load()})`)
        await stop(running)
        running = []
        rmSync(logDir, { recursive: true, force: true })
      }
    }
  }
  finally {
    await stop(running)
    for (const fake of fakes) fake.kill('SIGTERM')
    redis.child.kill('SIGKILL')
    await sleep(300)
    await db.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
  const f = x => x.toFixed(1)
  console.log(`\n${C} streams at once through Caddy → N app processes (${KIND === 'pg' ? 'PostgreSQL' : 'libSQL'} + Redis) → fake Ollama(s); `
    + `first token: 5-token answers at 10 ms/token, model unlimited, median of ${ROUNDS} rounds' medians (min–max of those), p99 of all; throughput: ${TOKENS}-token answers at ${DELAY} ms/token, `
    + `each model server generating ${PARALLEL} at once (the ideal is ${Math.round(PARALLEL * 1000 / DELAY)} tok/s per server). Node ${process.version}, `
    + `${((Date.now() - started) / 1000).toFixed(0)} s in all.\n`)
  console.log('| model servers | processes | first token median (min–max) | p99 | throughput | complete | load average |')
  console.log('|---:|---:|---:|---:|---:|---:|---|')
  for (const r of rows) console.log(`| ${r.k} | ${r.n} | ${f(r.first)} ms (${f(r.spread[0])}–${f(r.spread[1])}) | ${f(r.p99)} ms | ${Math.round(r.throughput)} tok/s | ${r.complete}/${C} | ${r.load} |`)
  const at = (k, n) => rows.find(r => r.k === k && r.n === n)
  const one = OLLAMAS.includes(1) && OLLAMAS.includes(2)
  console.log()
  for (const k of OLLAMAS) {
    const base = at(k, PROCESSES[0])
    for (const n of PROCESSES.slice(1)) console.log(`${k} model server(s): ${n} processes vs ${PROCESSES[0]} → first token ${at(k, n).first - base.first >= 0 ? '+' : ''}${f(at(k, n).first - base.first)} ms`)
  }
  if (one) for (const n of PROCESSES) console.log(`${n} process(es): 2 model servers vs 1 → throughput ×${(at(2, n).throughput / at(1, n).throughput).toFixed(2)}`)
}

await main()
