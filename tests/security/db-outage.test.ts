import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, DEMO } from '../support/http'
import { createTestDatabase, type RunningServer, startServer, type TestDatabase } from '../support/server'
import { startTcpProxy } from './support'

// Issue #15 item 13: with the database down routes answered 500, and a frozen database made /api/health hang 15 s.
// SQLite is a file inside the app's own process and cannot go down on its own: the outage is played on PostgreSQL
// (through a TCP proxy, so the shared server is never stopped), in both projects.
describe('database down → 503, and /api/health answers within 2 s (PostgreSQL behind a proxy)', () => {
  let db: TestDatabase
  let server: RunningServer
  let proxy: Awaited<ReturnType<typeof startTcpProxy>>
  beforeAll(async () => {
    db = await createTestDatabase('pg')
    const target = new URL(db.url)
    proxy = await startTcpProxy(target.hostname, Number(target.port || 5432))
    target.host = `127.0.0.1:${proxy.port}`
    server = await startServer({ DATABASE_URL: target.toString(), DATABASE_POOL_SIZE: '4' })
  })
  afterAll(async () => {
    await server?.stop('SIGKILL')
    await proxy?.close()
    await db?.drop()
  })

  it('cut: a signed-in route answers 503 with Retry-After (not 500); health 503; back to 200 once it returns', async () => {
    const client = new Client(server.url)
    await client.login(DEMO.worker.email, DEMO.worker.password)
    expect((await client.get('/api/conversations')).status).toBe(200)
    proxy.cut()
    const res = await client.get('/api/conversations')
    expect(res.status).toBe(503)
    expect(res.body).toMatchObject({ statusCode: 503 })
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await client.get('/api/health')).status).toBe(503)
    proxy.restore()
    await expect.poll(async () => (await client.get('/api/conversations')).status, { timeout: 10_000 }).toBe(200)
  })

  it('frozen: /api/health answers 503 within 2 s', async () => {
    proxy.freeze()
    const started = Date.now()
    const res = await fetch(`${server.url}/api/health`)
    const took = Date.now() - started
    expect(res.status).toBe(503)
    expect((await res.json()).db).toBe('down')
    expect(took).toBeLessThan(2000)
    proxy.restore()
    await expect.poll(async () => (await fetch(`${server.url}/api/health`)).status, { timeout: 10_000 }).toBe(200)
  })
})
