// The app's CPU per streamed answer, A/B between builds under the same load (run by hand):
//   node bench/stream-cpu.mjs [--db sqlite|pg] [--rounds 6] [--streams 50] [--tokens 200] [--follow-up] [--prof <dir>] <output dir>…
// Every output dir (a `.output` of a build; default: NUXT_OUTPUT_DIR or ./.output) gets its own app process and its
// own database, all on one fake Ollama (5 ms/token, BENCH_DELAY_MS). Each round sends `--streams` answers at once
// (one per user, each a new conversation, so each answer also saves a conversation and gets a title after `done`,
// as in bench/stream.mjs; with `--follow-up`, each user's answers after the first go on in one conversation) to one
// app, and the apps take turns round by round (A B B A A B …): a change in the machine's load falls on both. Per round: the app's utime+stime from /proc ÷ answers, and the load average.
// `--prof <dir>`: each app runs with --cpu-prof into <dir>; `<dir>/windows.json` holds the monotonic times (µs) of
// the measured rounds, so a summary can keep the samples of those windows only (bench/cpu-profile.mjs --windows).
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { basename, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import postgres from 'postgres'
import { freePort, sleep, waitFor } from './support.mjs'

const root = resolve(import.meta.dirname, '..')
const { values: opts, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    db: { type: 'string', default: 'sqlite' },
    rounds: { type: 'string', default: '6' },
    streams: { type: 'string', default: '50' },
    tokens: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '2' },
    prof: { type: 'string' },
    'follow-up': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h' },
  },
})
if (opts.help) {
  console.log(readFileSync(new URL(import.meta.url), 'utf8').split('\nimport')[0])
  process.exit(0)
}
const ROUNDS = Number(opts.rounds)
const STREAMS = Number(opts.streams)
const TOKENS = Number(opts.tokens)
const DELAY = Number(process.env.BENCH_DELAY_MS ?? 5)
const MODEL = 'qwen2.5:3b-instruct'
const builds = (positionals.length ? positionals : [process.env.NUXT_OUTPUT_DIR || '.output']).map(p => resolve(root, p))

const median = (v) => { const s = [...v].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2 }
const cpuMs = pid => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10 }
const load1 = () => loadavg()[0]
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n)

/** One streamed answer through the app; checks that it delivered every token and ended with `done`. */
async function answer(appUrl, cookie, n, conversationId) {
  const res = await fetch(`${appUrl}/api/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie },
    body: JSON.stringify({ message: `bench ${n}`, conversationId }),
    signal: AbortSignal.timeout(60_000),
  })
  if (!res.ok) throw new Error(`chat → ${res.status} ${await res.text()}`)
  const text = await res.text()
  const tokens = text.match(/tok\d+/g)?.length ?? 0
  if (tokens !== n || !text.includes('event: done')) throw new Error(`an answer was cut: ${tokens} of ${n} tokens`)
  return JSON.parse(/event: meta\ndata: (.*)/.exec(text)[1]).conversationId
}

async function database(dataDir, i) {
  if (opts.db !== 'pg') return { url: `file:${join(dataDir, 'bench.db')}`, drop: async () => {} }
  const adminUrl = process.env.TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres'
  const name = `energyapp_bench_cpu_${process.pid}_${i}`
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  const url = new URL(adminUrl)
  url.pathname = `/${name}`
  return { url: url.toString(), drop: async () => { await admin.unsafe(`drop database if exists ${name} with (force)`); await admin.end() } }
}

async function startApp(build, i, fakeUrl) {
  const dataDir = mkdtempSync(join(tmpdir(), 'energyapp-bench-cpu-'))
  const db = await database(dataDir, i)
  const port = await freePort()
  const prof = opts.prof ? ['--cpu-prof', `--cpu-prof-dir=${resolve(opts.prof)}`, `--cpu-prof-name=app${i}-${opts.db}.cpuprofile`] : []
  const child = spawn(process.execPath, [...prof, join(build, 'server/index.mjs')], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env,
      NODE_ENV: 'production',
      LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'silent',
      SESSION_SECRET: 'bench-secret-bench-secret-bench-secret-0123',
      PUBLIC_ORIGIN: `http://127.0.0.1:${port}`,
      DATABASE_URL: db.url,
      DATA_DIR: dataDir,
      DEMO_ACCOUNTS: 'false',
      REGISTRATION_DOMAINS: 'bench.local',
      OLLAMA_HOST: fakeUrl,
      OLLAMA_MODEL: MODEL,
      MAX_CONCURRENT_GENERATIONS: '64',
      CHAT_RATE_LIMIT: '1000000/1m',
      LOGIN_IP_RATE_LIMIT: '1000000/15m',
      PORT: String(port),
      HOST: '127.0.0.1',
    },
  })
  const url = `http://127.0.0.1:${port}`
  const app = { build, url, child, cookies: [], conversations: [], cpu: [], loads: [], windows: [] }
  app.stop = async () => {
    const exited = new Promise(r => child.once('exit', r))
    child.kill('SIGTERM')
    await Promise.race([exited, sleep(10_000)])
    await db.drop()
    rmSync(dataDir, { recursive: true, force: true })
  }
  await waitFor(`${url}/api/health`)
  for (let u = 0; u < STREAMS; u++) {
    const res = await fetch(`${url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: `bench${u}@bench.local`, password: 'bench-password-123', fullName: `Bench ${u}` }) })
    if (res.status !== 201) throw new Error(`register → ${res.status} ${await res.text()}`)
    app.cookies.push(res.headers.getSetCookie().map(c => c.split(';')[0]).join('; '))
  }
  return app
}

// --follow-up: after its first answer each user writes on in the same conversation (the turn then reads the
// conversation and its history, and no title is asked for)
const round = app => Promise.all(app.cookies.map(async (cookie, u) => {
  const id = await answer(app.url, cookie, TOKENS, opts['follow-up'] ? app.conversations[u] : undefined)
  app.conversations[u] = id
}))

async function main() {
  const fakePort = await freePort()
  const fake = spawn(process.execPath, [join(root, 'node_modules/jiti/lib/jiti-cli.mjs'), 'tests/support/fake-ollama-cli.ts'], {
    cwd: root, stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PORT: String(fakePort), FAKE_DELAY_MS: String(DELAY), FAKE_FIRST_TOKEN_MS: '0', FAKE_MODELS: MODEL },
  })
  const fakeUrl = `http://127.0.0.1:${fakePort}`
  const apps = []
  try {
    await waitFor(`${fakeUrl}/api/version`)
    if (opts.prof) mkdirSync(resolve(opts.prof), { recursive: true })
    for (const [i, build] of builds.entries()) apps.push(await startApp(build, i, fakeUrl))
    for (let w = 0; w < Number(opts.warmup); w++) for (const app of apps) await round(app)
    for (let r = 0; r < ROUNDS; r++) {
      // A B, then B A: neither build always goes first
      const order = r % 2 ? [...apps].reverse() : apps
      for (const app of order) {
        const load = load1()
        const start = monotonicUs()
        const c0 = cpuMs(app.child.pid)
        await round(app)
        app.cpu.push((cpuMs(app.child.pid) - c0) / STREAMS)
        app.windows.push([start, monotonicUs()])
        app.loads.push(load)
      }
    }
    console.log(`\nCPU per answer (${TOKENS} tokens, ${STREAMS} at once, ${opts['follow-up'] ? 'follow-ups, ' : ''}${opts.db === 'pg' ? 'PostgreSQL' : 'SQLite'}), ${ROUNDS} rounds per build, alternated; Node ${process.version}`)
    console.log('| build | median ms | rounds (ms) | load average (1 min) at each round |')
    console.log('|---|---:|---|---|')
    for (const app of apps) console.log(`| ${basename(resolve(app.build, '..'))}/${basename(app.build)} | **${median(app.cpu).toFixed(1)}** | ${app.cpu.map(x => x.toFixed(1)).join(' / ')} | ${app.loads.map(x => x.toFixed(1)).join(' / ')} |`)
    if (opts.prof) writeFileSync(join(resolve(opts.prof), 'windows.json'), JSON.stringify(Object.fromEntries(apps.map((a, i) => [`app${i}-${opts.db}`, a.windows]))))
  }
  finally {
    for (const app of apps) await app.stop()
    fake.kill('SIGTERM')
  }
}

await main()
