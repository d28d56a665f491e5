import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { createTestDatabase, type RunningServer, startServer, type TestDatabase } from '../support/server'
import { postChunked, rssKb } from './support'

// Issue #15 item 3: bodies were read whole before the 256 KB check (300 MB chunked logins took RSS to 1.46 GB).
describe('request bodies stop at the limit (own server, no proxy in front)', () => {
  let server: RunningServer
  let db: TestDatabase
  beforeAll(async () => {
    db = await createTestDatabase(inject('dbKind'))
    server = await startServer({ DATABASE_URL: db.url })
  })
  afterAll(async () => {
    await server?.stop()
    await db?.drop()
  })

  it('50 MB chunked to /api/auth/login, signed out → 413, and the server\'s RSS stays flat', async () => {
    const pid = server.child.pid!
    const before = rssKb(pid)
    const res = await postChunked(server.url, '/api/auth/login', 50 * 1024 * 1024)
    expect(res.status).toBe(413)
    expect(JSON.parse(res.body)).toMatchObject({ statusCode: 413, message: expect.stringContaining('body') })
    // answered long before the whole body could have been sent
    expect(res.sent).toBeLessThan(50 * 1024 * 1024)
    const after = rssKb(pid)
    expect(after - before, `RSS ${before} KB → ${after} KB`).toBeLessThan(20 * 1024)
    // the server still answers
    expect((await fetch(`${server.url}/api/health`)).status).toBe(200)
  })

  it('every route, known or not, signed in or not: chunked and declared bodies over the limit → 413', async () => {
    for (const path of ['/api/conversations', '/api/auth/register', '/api/chat', '/api/no-such-route']) {
      const res = await postChunked(server.url, path, 2 * 1024 * 1024)
      expect(res.status, path).toBe(413)
    }
    const declared = await fetch(`${server.url}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: 'a'.repeat(300 * 1024) })
    expect(declared.status).toBe(413)
  })

  it('a chunked body under the limit still works', async () => {
    const res = await fetch(`${server.url}/api/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: new Blob([JSON.stringify({ email: 'admin@example.com', password: 'admin123' })]).stream(),
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(200)
  })
})
