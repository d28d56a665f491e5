// Several app processes on one database and one Redis, behind Caddy, against one or two model servers (issue 14).
//   node bench/scale.mjs        (~4–5 minutes; NUXT_OUTPUT_DIR picks the build; it is built when stale)
// Env: BENCH_PROCESSES (1,2,3), BENCH_OLLAMAS (1,2), BENCH_C (50 streams at once), BENCH_ROUNDS (3),
// BENCH_TOKENS (20 per answer in the throughput run), BENCH_DELAY_MS (40 ms/token), BENCH_MODEL_PARALLEL (4 answers
// generated at once per model server in the throughput run, like OLLAMA_NUM_PARALLEL), BENCH_SECONDS (10 s of
// measured throughput), BENCH_SAMPLES (200 rounds at c=1, a third of that at c=10), BENCH_DB (pg | sqlite; pg).
//
// Three parts, each measuring one claim where it can be seen on a small machine:
// 1. Per-process cost of first-token latency, at concurrencies that do not saturate the CPU (c=1, c=10). Three
//    app processes run throughout with three Caddys in front: A sends to process 1, B to 1–2, C to 1–3. Rounds go
//    A, B, C (rotated), back to back, so machine noise falls on all three alike; each round is c streams at once
//    (5 tokens at 10 ms/token, model unlimited), its median first token is the sample. Printed: each setup's median
//    and the median of the paired differences B−A and C−A with a 95 % confidence interval (order statistics of the
//    differences, distribution-free). The idle processes' background work is present in all three setups: this is
//    the cost on the request's path (Caddy's choice among N upstreams, landing on another process), not the
//    machine's cost of running more processes.
// 2. The c=50 table, as issue 14 asks: for every (processes, model servers) pair its own processes and Caddy,
//    50 users stream at once, first token = median of BENCH_ROUNDS rounds' medians (min–max beside it). On 2
//    cores the 50 requests' own CPU (Caddy + apps + fakes + client) dominates this number.
// 3. Throughput when the model is the bottleneck (same pass as 2): each fake generates at most
//    BENCH_MODEL_PARALLEL answers at once (the others wait, as Ollama does) at BENCH_DELAY_MS per token, so one
//    server can deliver PARALLEL × 1000/DELAY tok/s (100 by default) and two twice that. The 50 users run a closed
//    loop (ask, read the answer to its end, ask again) for 2 s of warm-up and BENCH_SECONDS of measure: tokens
//    that arrive inside the window / its length. Demand (50) exceeds both servers' slots (8), so the servers are
//    the limit; a one-shot burst of 50 answers would instead measure the last, partly filled wave.
// maxConcurrentGenerations is c, so the app's own queue never limits. Load average is printed: compare on a quiet machine.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { outputDir } from '../scripts/build-state.mjs'
import { benchBuild, benchDatabase, freePort, measureStream, median, quantile, root, sleep, start, startFakeOllama, startRedis, waitFor } from './support.mjs'

const list = (value, fallback) => (value || fallback).split(',').map(Number)
const PROCESSES = list(process.env.BENCH_PROCESSES, '1,2,3')
const OLLAMAS = list(process.env.BENCH_OLLAMAS, '1,2')
const C = Number(process.env.BENCH_C || 50)
const ROUNDS = Number(process.env.BENCH_ROUNDS || 3)
const TOKENS = Number(process.env.BENCH_TOKENS || 20)
const DELAY = Number(process.env.BENCH_DELAY_MS ?? 40)
const PARALLEL = Number(process.env.BENCH_MODEL_PARALLEL || 4)
const SECONDS = Number(process.env.BENCH_SECONDS || 10)
const SAMPLES = Number(process.env.BENCH_SAMPLES || 200)
const KIND = process.env.BENCH_DB || 'pg'
const MODEL = 'qwen2.5:3b-instruct'
const CADDY = ['/usr/bin/caddy', '/usr/local/bin/caddy'].find(p => existsSync(p))

const load = () => loadavg().map(x => x.toFixed(1)).join(' ')
const f = x => x.toFixed(1)

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

const ask = (site, user, tokens) => measureStream(`${site}/api/chat`, {
  method: 'POST',
  headers: { 'content-type': 'application/json', 'cookie': user.cookie },
  body: JSON.stringify({ message: `bench ${tokens}`, conversationId: user.conversationId }),
})

/** The median of paired differences with a distribution-free 95 % interval (order statistics, normal approximation). */
function pairedMedian(a, b) {
  const d = a.map((x, i) => b[i] - x).sort((x, y) => x - y)
  const n = d.length
  const half = 1.96 * Math.sqrt(n) / 2
  const lo = Math.max(0, Math.floor(n / 2 - half) - 1)
  const hi = Math.min(n - 1, Math.ceil(n / 2 + half) - 1)
  return { median: median(d), lo: d[lo], hi: d[hi], n }
}

/** Part 1: setups A (1 process), B (2), C (3) side by side, rounds interleaved; per-round median first token. */
async function perProcessCost(users, env, caddyPorts) {
  const apps = await startApps(3, env)
  const logDir = mkdtempSync(join(tmpdir(), 'energyapp-bench-caddy-'))
  const setups = []
  // each Caddy writes its own access log
  for (let n = 1; n <= 3; n++) setups.push({ n, ...await startCaddy(caddyPorts[n - 1], apps.slice(0, n), mkdtempSync(join(logDir, `${n}-`))) })
  const children = [...apps.map(a => a.child), ...setups.map(s => s.child)]
  const results = []
  try {
    for (const c of [1, 10]) {
      const rounds = c === 1 ? SAMPLES : Math.max(20, Math.round(SAMPLES / 3))
      // warm-up: every process and every Caddy serves a few rounds first
      for (let i = 0; i < 10; i++) for (const s of setups) await Promise.all(users.slice(0, c).map(u => ask(s.site, u, 5)))
      const samples = setups.map(() => [])
      let dropped = 0
      for (let r = 0; r < rounds; r++) {
        const round = []
        try {
          for (let j = 0; j < setups.length; j++) {
            const s = (j + r) % setups.length
            const firsts = await Promise.all(users.slice(0, c).map(u => ask(setups[s].site, u, 5)))
            round[s] = median(firsts.map(x => x.firstMs))
          }
        }
        catch (error) {
          // a failed request drops the whole round: the samples stay paired
          dropped++
          console.error(`c=${c}, round ${r} dropped: ${String(error.message).slice(0, 160)}`)
          continue
        }
        round.forEach((x, s) => samples[s].push(x))
      }
      results.push({ c, rounds: rounds - dropped, dropped, medians: samples.map(median), b: pairedMedian(samples[0], samples[1]), cc: pairedMedian(samples[0], samples[2]), load: load() })
      console.error(`c=${c}: first token ${samples.map(x => f(median(x))).join(' / ')} ms for 1 / 2 / 3 processes (load ${load()})`)
    }
  }
  finally {
    await stop(children)
    rmSync(logDir, { recursive: true, force: true })
  }
  return results
}

/** Part 3: closed-loop throughput; tokens arriving between warm-up and the end of the window. */
async function throughput(site, users) {
  const t0 = performance.now()
  const from = t0 + 2000
  const to = from + SECONDS * 1000
  let tokens = 0
  let answers = 0
  let failures = 0
  const reasons = new Set()
  await Promise.all(users.map(async (u) => {
    while (performance.now() < to) {
      try {
        const r = await ask(site, u, TOKENS)
        tokens += r.times.filter(t => t >= from && t < to).length
        answers++
      }
      catch (error) { failures++; reasons.add(String(error.message).replace(/http:\/\/[^ ]*/, '').slice(0, 120)) }
    }
  }))
  if (reasons.size) console.error(`failed answers: ${[...reasons].join('; ')}`)
  return { tps: tokens / SECONDS, answers, failures }
}

async function main() {
  benchBuild({ quiet: true })
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
  let cost = []
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

    // part 1: one model server, unlimited; three Caddys on three ports in front of the same processes (the bench
    // sends no Origin header, so one PUBLIC_ORIGIN serves all three sites)
    await tune(hosts, { concurrency: null, delayMs: 10 })
    const caddyPorts = await Promise.all([0, 1, 2].map(() => freePort()))
    cost = await perProcessCost(users, { ...env, PUBLIC_ORIGIN: 'http://127.0.0.1', OLLAMA_HOST: hosts[0], OLLAMA_HOSTS: hosts[0] }, caddyPorts)

    for (const k of OLLAMAS) {
      for (const n of PROCESSES) {
        const port = await freePort()
        const apps = await startApps(n, { ...env, PUBLIC_ORIGIN: `http://127.0.0.1:${port}`, OLLAMA_HOST: hosts[0], OLLAMA_HOSTS: hosts.slice(0, k).join(',') })
        const logDir = mkdtempSync(join(tmpdir(), 'energyapp-bench-caddy-'))
        const caddy = await startCaddy(port, apps, logDir)
        running = [...apps.map(a => a.child), caddy.child]
        const all = tokens => Promise.all(users.map(u => ask(caddy.site, u, tokens)))
        // part 2: first-token latency at c=50, model servers unlimited
        await tune(hosts, { concurrency: null, delayMs: 10 })
        await all(5) // warm-up: connections, JIT, caches
        const medians = []
        const firsts = []
        for (let round = 0; round < ROUNDS; round++) {
          const r = (await all(5)).map(x => x.firstMs)
          medians.push(median(r))
          firsts.push(...r)
        }
        // part 3: throughput with the model as the bottleneck: PARALLEL answers at once per server
        await tune(hosts, { concurrency: PARALLEL, delayMs: DELAY })
        const t = await throughput(caddy.site, users)
        rows.push({ k, n, first: median(medians), p99: quantile(firsts, 0.99), spread: [Math.min(...medians), Math.max(...medians)], ...t, load: load() })
        console.error(`${n} process(es), ${k} model server(s): first token ${f(median(medians))} ms, ${Math.round(t.tps)} tok/s (load ${load()})`)
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
  const ideal = Math.round(PARALLEL * 1000 / DELAY)
  console.log(`\n${KIND === 'pg' ? 'PostgreSQL' : 'libSQL'} + Redis, Caddy in front, fake Ollama(s). Node ${process.version}, ${((Date.now() - started) / 1000).toFixed(0)} s in all.`)
  console.log(`\n1. First token by number of processes, setups side by side and interleaved (5-token answers at 10 ms/token, model unlimited; one sample = one round's median):\n`)
  console.log('| c | rounds per setup (dropped) | 1 process | 2 processes | 3 processes | 2 − 1 (95 % CI) | 3 − 1 (95 % CI) | load average |')
  console.log('|---:|---:|---:|---:|---:|---:|---:|---|')
  for (const r of cost) {
    const d = x => `${x.median >= 0 ? '+' : ''}${f(x.median)} ms (${f(x.lo)} … ${f(x.hi)})`
    console.log(`| ${r.c} | ${r.rounds} (${r.dropped}) | ${r.medians.map(x => `${f(x)} ms`).join(' | ')} | ${d(r.b)} | ${d(r.cc)} | ${r.load} |`)
  }
  console.log(`\n2–3. ${C} users through Caddy; first token: ${C} 5-token answers at once, median of ${ROUNDS} rounds' medians (min–max), p99 of all; `
    + `throughput: closed loop of ${C} users, ${TOKENS}-token answers at ${DELAY} ms/token, each model server generating ${PARALLEL} at once `
    + `(ideal ${ideal} tok/s per server), tokens arriving in a ${SECONDS} s window after 2 s of warm-up:\n`)
  console.log('| model servers | processes | first token c=50 median (min–max) | p99 | throughput (of ideal) | answers / failed | load average |')
  console.log('|---:|---:|---:|---:|---:|---:|---|')
  for (const r of rows) console.log(`| ${r.k} | ${r.n} | ${f(r.first)} ms (${f(r.spread[0])}–${f(r.spread[1])}) | ${f(r.p99)} ms | ${Math.round(r.tps)} tok/s (${Math.round(100 * r.tps / (ideal * r.k))} %) | ${r.answers} / ${r.failures} | ${r.load} |`)
  const at = (k, n) => rows.find(r => r.k === k && r.n === n)
  console.log()
  for (const k of OLLAMAS) {
    const base = at(k, PROCESSES[0])
    for (const n of PROCESSES.slice(1)) console.log(`${k} model server(s), c=50: ${n} processes vs ${PROCESSES[0]} → first token ${at(k, n).first - base.first >= 0 ? '+' : ''}${f(at(k, n).first - base.first)} ms`)
  }
  if (OLLAMAS.includes(1) && OLLAMAS.includes(2)) for (const n of PROCESSES) console.log(`${n} process(es): 2 model servers vs 1 → throughput ×${(at(2, n).tps / at(1, n).tps).toFixed(2)}`)
}

await main()
