import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { FakeOllama } from '../support/fake-ollama'
import { Client, GOOD_PASSWORD, uniqueEmail } from '../support/http'
import { createTestDatabase, freePort, OUTPUT, ROOT, type RunningServer, startServer, type TestDatabase } from '../support/server'

const caddy = ['/usr/bin/caddy', '/usr/local/bin/caddy'].find(p => existsSync(p))
const env = (extra: Record<string, string>) => ({ ...process.env, ...extra })

// The repository's own Caddyfile in front of the built server, on loopback over plain HTTP.
describe.skipIf(!caddy || inject('dbKind') !== 'sqlite')('behind Caddy (the repository Caddyfile)', () => {
  let fake: FakeOllama
  let db: TestDatabase
  let app: RunningServer
  let proxy: ChildProcess
  let site = ''
  const logDir = mkdtempSync(join(tmpdir(), 'energyapp-caddy-'))

  beforeAll(async () => {
    fake = await new FakeOllama().start()
    db = await createTestDatabase('sqlite')
    const port = await freePort()
    site = `http://127.0.0.1:${port}`
    app = await startServer({ DATABASE_URL: db.url, OLLAMA_HOST: fake.url, PUBLIC_ORIGIN: site })
    const vars = { SITE_ADDRESS: site, APP_UPSTREAM: `127.0.0.1:${app.port}`, CADDY_LOG_DIR: logDir, CADDY_ADMIN: `127.0.0.1:${await freePort()}` }
    proxy = spawn(caddy!, ['run', '--config', join(ROOT, 'Caddyfile'), '--adapter', 'caddyfile'], { env: env(vars), stdio: 'ignore' })
    for (let i = 0; i < 100; i++) {
      try { if ((await fetch(`${site}/api/health`)).ok) return }
      catch {}
      await new Promise(r => setTimeout(r, 100))
    }
    throw new Error('caddy did not start')
  }, 120_000)

  afterAll(async () => {
    proxy?.kill('SIGTERM')
    await app?.stop()
    await fake?.close()
    await db?.drop()
    rmSync(logDir, { recursive: true, force: true })
  })

  it('caddy validate accepts the Caddyfile', () => {
    const out = execFileSync(caddy!, ['validate', '--config', join(ROOT, 'Caddyfile'), '--adapter', 'caddyfile'], {
      env: env({ CADDY_LOG_DIR: logDir }), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
    })
    expect(out).toMatch(/Valid configuration/)
  })

  it('streams a chat token by token, uncompressed, through the proxy', async () => {
    // the model stops after its 6th token until the test lets it go on: those 6 tokens must reach the browser through
    // Caddy while the answer is still open, which a buffering (or compressing) proxy would hold back until the end.
    // Cause and effect, not timing, so a busy machine cannot make it pass or fail.
    const { gate, open } = fake.gate()
    fake.reset().set({ tokenCount: 12 }).once({ gate, gateAfter: 6 })
    const client = new Client(site)
    await client.post('/api/auth/register', { email: uniqueEmail('caddy'), password: GOOD_PASSWORD, fullName: 'Proxy' })
    const res = await fetch(`${site}/api/chat`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'accept-encoding': 'gzip, zstd', 'cookie': [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      body: JSON.stringify({ message: 'Hola a través de Caddy' }),
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/)
    expect(res.headers.get('content-encoding')).toBeNull()
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let text = ''
    const tokens = () => text.match(/event: token/g)?.length ?? 0
    async function readUntil(done: () => boolean, what: string) {
      const timer = setTimeout(() => void reader.cancel(), 30_000)
      try {
        while (!done()) {
          const { value, done: ended } = await reader.read()
          if (ended) break
          text += decoder.decode(value, { stream: true })
        }
      }
      finally { clearTimeout(timer) }
      expect(done(), `${what}; the proxy delivered:\n${text}`).toBe(true)
    }
    await readUntil(() => tokens() >= 6, 'the first 6 tokens arrive while the model is held')
    expect(tokens()).toBe(6)
    expect(fake.chatRequests[0]!.tokensSent).toBe(6)
    open()
    await readUntil(() => /event: done/.test(text), 'the rest of the answer and done arrive once the model goes on')
    expect(tokens()).toBe(12)
  })

  it('compresses static assets and API JSON, and sets HSTS', async () => {
    // the largest script: Caddy leaves responses under 512 bytes uncompressed, and a build's first file by name may be one
    const dir = join(OUTPUT, 'public', '_nuxt')
    const js = readdirSync(dir).filter(f => f.endsWith('.js')).sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0]!
    const asset = await fetch(`${site}/_nuxt/${js}`, { headers: { 'accept-encoding': 'gzip' } })
    expect(asset.status).toBe(200)
    expect(asset.headers.get('content-encoding')).toBe('gzip')
    const html = await fetch(`${site}/login`, { headers: { 'accept-encoding': 'gzip' } })
    expect(html.headers.get('content-encoding')).toBe('gzip')
    expect(html.headers.get('strict-transport-security')).toMatch(/max-age=\d+/)
  })

  it('refuses request bodies over the limit before they reach the app', async () => {
    const res = await fetch(`${site}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'x'.repeat(2 * 1024 * 1024) })
    expect(res.status).toBe(413)
  })

  it('writes a JSON access log', async () => {
    await expect.poll(() => readdirSync(logDir), { timeout: 10_000 }).toContain('energyapp-access.log')
  })
})
