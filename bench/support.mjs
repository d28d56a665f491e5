// Helpers shared by the benches that start the built app: free ports, child processes, fresh databases, a
// throwaway Redis, SSE streams measured token by token, quantiles.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { join, resolve } from 'node:path'
import postgres from 'postgres'

export const root = resolve(import.meta.dirname, '..')
export const sleep = ms => new Promise(r => setTimeout(r, ms))
export const quantile = (values, q) => { const s = [...values].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(q * s.length))] }
export const median = values => quantile(values, 0.5)

export const freePort = () => new Promise((ok) => {
  const srv = createServer()
  srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => ok(port)) })
})

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

/** One streamed answer of the fake (`tok0 tok1 …`): time to the first token, token count, first-to-last time. */
export async function measureStream(url, init) {
  const t0 = performance.now()
  const res = await fetch(url, init).catch((error) => { throw new Error(`${url}: ${error.cause?.message ?? error.message}`) })
  if (!res.ok) throw new Error(`${url} → ${res.status} ${await res.text()}`)
  const decoder = new TextDecoder()
  let first = null
  let last = null
  let tokens = 0
  let buffer = ''
  let ended = false
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true })
    const lines = buffer.split('\n')
    buffer = lines.pop()
    for (const line of lines) {
      if (/tok\d/.test(line)) { tokens++; last = performance.now(); first ??= last }
      if (line.includes('"done":true') || line === 'event: done') ended = true
    }
  }
  if (!ended) throw new Error(`${url}: stream ended without done`)
  return { firstMs: first - t0, tokens, streamingMs: last - first }
}
