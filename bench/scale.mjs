// Several app processes on one database and one Redis (issue 14), run by hand (~2–4 minutes):
//   node bench/scale.mjs                 (NUXT_OUTPUT_DIR picks the build; it is built when stale)
// Env: BENCH_PROCESSES (1,2,3), BENCH_OLLAMAS (1; 2 passes OLLAMA_HOSTS with two fakes — needs the model pool),
// BENCH_C (50 streams at once), BENCH_TOKENS (200 per answer in the throughput run), BENCH_DELAY_MS (10 ms/token),
// BENCH_SLOTS (maxConcurrentGenerations, default 50: the app is not the bottleneck), BENCH_DB (pg | sqlite; pg).
// For each process count: c users (user i on process i mod N, the way Caddy spreads them) stream at once;
// reports first-token latency (median / p99, 5-token answers, 2 rounds), token throughput (sum of each stream's
// rate, long answers) and complete streams. Every process uses REDIS_URL, so the queue and limits are global.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { outputDir } from '../scripts/build-state.mjs'
import { ensureBuild } from '../scripts/ensure-build.mjs'
import { benchDatabase, freePort, measureStream, median, quantile, sleep, start, startFakeOllama, startRedis, waitFor } from './support.mjs'

const PROCESSES = (process.env.BENCH_PROCESSES || '1,2,3').split(',').map(Number)
const OLLAMAS = Number(process.env.BENCH_OLLAMAS || 1)
const C = Number(process.env.BENCH_C || 50)
const TOKENS = Number(process.env.BENCH_TOKENS || 200)
const DELAY = Number(process.env.BENCH_DELAY_MS ?? 10)
const SLOTS = process.env.BENCH_SLOTS || '50'
const KIND = process.env.BENCH_DB || 'pg'
const MODEL = 'qwen2.5:3b-instruct'

async function startApps(n, env) {
  const apps = []
  for (let i = 0; i < n; i++) {
    const port = await freePort()
    const child = start(process.execPath, [join(outputDir(), 'server/index.mjs')], { ...env, PORT: String(port), PUBLIC_ORIGIN: `http://127.0.0.1:${port}` })
    apps.push({ url: `http://127.0.0.1:${port}`, child })
    // the first one migrates a fresh database
    if (i === 0) await waitFor(`${apps[0].url}/api/health`)
  }
  await Promise.all(apps.map(app => waitFor(`${app.url}/api/health`)))
  return apps
}

async function stopApps(apps) {
  await Promise.all(apps.map(app => new Promise((resolve) => {
    if (app.child.exitCode !== null) return resolve()
    app.child.once('exit', resolve)
    app.child.kill('SIGTERM')
  })))
}

async function main() {
  ensureBuild({ quiet: true })
  const dataDir = mkdtempSync(join(tmpdir(), 'energyapp-bench-scale-'))
  const db = await benchDatabase(KIND, dataDir, 'scale')
  const redis = await startRedis()
  const fakePorts = await Promise.all(Array.from({ length: OLLAMAS }, () => freePort()))
  const fakes = fakePorts.map(port => startFakeOllama(port, { FAKE_DELAY_MS: String(DELAY), FAKE_MODELS: MODEL }))
  const hosts = fakePorts.map(port => `http://127.0.0.1:${port}`)
  const env = {
    NODE_ENV: 'production', LOG_LEVEL: 'silent', SESSION_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
    DATABASE_URL: db.url, DATA_DIR: dataDir, REDIS_URL: redis.url, DEMO_ACCOUNTS: 'false', REGISTRATION_DOMAINS: 'bench.local',
    OLLAMA_HOST: hosts[0], OLLAMA_HOSTS: hosts.join(','), OLLAMA_MODEL: MODEL, MAX_CONCURRENT_GENERATIONS: SLOTS,
    CHAT_RATE_LIMIT: '1000000/1m', LOGIN_IP_RATE_LIMIT: '1000000/15m', HOST: '127.0.0.1',
  }
  const rows = []
  let apps = []
  try {
    await Promise.all(hosts.map(host => waitFor(`${host}/api/version`)))
    // users once, on one process (sessions live in the database, so every process accepts them)
    apps = await startApps(1, env)
    const users = []
    for (let i = 0; i < C; i++) {
      const res = await fetch(`${apps[0].url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `scale${i}@bench.local`, password: 'bench-password-123', fullName: `Bench ${i}` }) })
      if (res.status !== 201) throw new Error(`register → ${res.status} ${await res.text()}`)
      const cookie = res.headers.getSetCookie().map(c => c.split(';')[0]).join('; ')
      const conv = await (await fetch(`${apps[0].url}/api/conversations`, { method: 'POST', headers: { 'content-type': 'application/json', cookie }, body: JSON.stringify({ title: 'bench' }) })).json()
      users.push({ cookie, conversationId: conv.id })
    }
    await stopApps(apps)

    for (const n of PROCESSES) {
      apps = await startApps(n, env)
      const chat = (i, tokens) => measureStream(`${apps[i % n].url}/api/chat`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'cookie': users[i].cookie },
        body: JSON.stringify({ message: `bench ${tokens}`, conversationId: users[i].conversationId }),
      })
      const all = tokens => Promise.allSettled(users.map((_, i) => chat(i, tokens)))
      await all(5) // warm-up
      const first = []
      let complete = 0
      for (let round = 0; round < 2; round++) {
        for (const r of await all(5)) if (r.status === 'fulfilled') { first.push(r.value.firstMs); complete++ }
      }
      const long = await all(TOKENS)
      const ok = long.filter(r => r.status === 'fulfilled' && r.value.tokens === TOKENS).map(r => r.value)
      complete += ok.length
      const throughput = ok.reduce((sum, x) => sum + (x.tokens - 1) / (x.streamingMs / 1000), 0)
      rows.push({ n, median: median(first), p99: quantile(first, 0.99), throughput, complete, total: 3 * C })
      await stopApps(apps)
      apps = []
    }
  }
  finally {
    await stopApps(apps)
    for (const fake of fakes) fake.kill('SIGTERM')
    redis.child.kill('SIGKILL')
    await sleep(300)
    await db.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
  const f = x => x.toFixed(1)
  console.log(`\n${C} streams at once through N app processes (${KIND === 'pg' ? 'PostgreSQL' : 'libSQL'} + Redis), ${OLLAMAS} fake Ollama(s), ${TOKENS} tokens/answer at ${DELAY} ms/token, maxConcurrentGenerations ${SLOTS}, Node ${process.version}, load average ${(await import('node:os')).loadavg().map(x => x.toFixed(2)).join(' ')}\n`)
  console.log('| processes | first token (median / p99) | throughput | complete streams |')
  console.log('|---:|---:|---:|---:|')
  for (const r of rows) console.log(`| ${r.n} | ${f(r.median)} / ${f(r.p99)} ms | ${Math.round(r.throughput)} tok/s | ${r.complete} / ${r.total} |`)
}

await main()
