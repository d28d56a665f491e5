import { randomUUID } from 'node:crypto'
import { beforeAll, describe, expect, it } from 'vitest'
import { type Client, newWorker } from '../support/http'
import { demoAdmin, makeUser } from './admin-support'

// Edges of API.md's conventions found by probing the built server: bad input is never a 500, lists take the
// `limit`/`offset` bounds, and an error about a field names it in `data.fields` whatever its status (docs/api.md "Errors").

let admin: Client
beforeAll(async () => { admin = await demoAdmin() })

const cursorOf = (key: unknown[]) => Buffer.from(JSON.stringify(key)).toString('base64url')

describe('cursors', () => {
  it('a cursor whose date is out of any date\'s range → 400 naming cursor, never a 500 (PostgreSQL refused the date)', async () => {
    const { client, user } = await newWorker()
    for (let i = 0; i < 2; i++) expect((await client.post('/api/conversations', { title: `c${i}` })).status).toBe(201)
    const id = randomUUID()
    for (const ms of [1e300, 8.64e15 + 1, -1e15, -62198755200001, 1.5]) {
      for (const path of [`/api/conversations?limit=1&cursor=${cursorOf([false, ms, id])}`, `/api/conversations?limit=1&q=c&cursor=${cursorOf([false, ms, id])}`]) {
        const res = await client.get(path)
        expect(res.status, `${path} ${res.text}`).toBe(400)
        expect(res.body.data.fields).toHaveProperty('cursor')
      }
      const res = await admin.get(`/api/admin/users/${user.id}/conversations?limit=1&cursor=${cursorOf([ms, id])}`)
      expect(res.status, `${ms} ${res.text}`).toBe(400)
      expect(res.body.data.fields).toHaveProperty('cursor')
    }
    // a cursor the server gave still pages
    const first = (await client.get('/api/conversations?limit=1')).body
    expect((await client.get(`/api/conversations?limit=1&cursor=${first.nextCursor}`)).body.data).toHaveLength(1)
  })
})

describe('404s about a field name it (docs/api.md "Errors")', () => {
  it('POST /api/messages with a parentId the caller cannot see → 404 naming parentId', async () => {
    const a = await makeUser(admin, 'worker', null, 'edge-a')
    const b = await makeUser(admin, 'worker', null, 'edge-b')
    const res = await a.client.post('/api/messages', { recipientId: b.id, content: 'hola', parentId: randomUUID() })
    expect(res.status).toBe(404)
    expect(res.body.data.fields).toHaveProperty('parentId')
    expect(res.body.message).toMatch(/^parentId: /)
  })

  it('GET /api/admin/reports?reporterId out of scope and GET /api/conversations?userId out of scope → 404 naming the field', async () => {
    const supervisor = await makeUser(admin, 'supervisor', null, 'edge-sup')
    const outsider = await makeUser(admin, 'worker', null, 'edge-out')
    for (const id of [outsider.id, randomUUID()]) {
      const reports = await supervisor.client.get(`/api/admin/reports?reporterId=${id}`)
      expect(reports.status).toBe(404)
      expect(reports.body.data.fields).toHaveProperty('reporterId')
      const conversations = await supervisor.client.get(`/api/conversations?userId=${id}`)
      expect(conversations.status).toBe(404)
      expect(conversations.body.data.fields).toHaveProperty('userId')
    }
  })
})

describe('list conventions', () => {
  it('GET /api/admin/system-prompts takes limit (1..100) and offset like every list; without limit, every prompt', async () => {
    for (const query of ['limit=0', 'limit=101', 'limit=x', 'offset=-1']) {
      const res = await admin.get(`/api/admin/system-prompts?${query}`)
      expect(res.status, query).toBe(400)
      expect(Object.keys(res.body.data.fields)[0]).toBe(query.split('=')[0])
    }
    await admin.post('/api/admin/system-prompts', { name: `Borde ${randomUUID()}`, content: 'Prueba de paginación.' })
    const all = (await admin.get('/api/admin/system-prompts')).body
    expect(all.total).toBeGreaterThanOrEqual(2)
    expect(all.data).toHaveLength(all.total)
    const page = (await admin.get('/api/admin/system-prompts?limit=1&offset=1')).body
    expect(page.total).toBe(all.total)
    expect(page.data.map((p: any) => p.id)).toEqual([all.data[1].id])
  })
})

describe('a query key given twice', () => {
  it('→ 400 naming the key in plain words, on any route that reads the query (no route takes a list there)', async () => {
    const { client } = await newWorker()
    for (const [who, path, key] of [
      [client, '/api/conversations?limit=1&limit=2', 'limit'],
      [client, '/api/conversations?q=a&q=b', 'q'],
      [admin, '/api/admin/users?offset=0&offset=1', 'offset'],
      [admin, '/api/admin/audit?action=a&action=b', 'action'],
    ] as const) {
      const res = await who.get(path)
      expect(res.status, `${path} ${res.text}`).toBe(400)
      expect(res.body.data.fields, path).toEqual({ [key]: 'must be given once' })
      expect(res.body.message).toBe(`${key}: must be given once`)
    }
  })
})
