import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Client, DEMO, newWorker } from '../support/http'
import { ownServer } from './admin-support'

// issue 13.6: company starter prompts on the empty chat, edited by an admin (own server: the list is global)
let own: Awaited<ReturnType<typeof ownServer>>
let admin: Client
beforeAll(async () => {
  own = await ownServer()
  admin = new Client(own.url)
  await admin.login(DEMO.admin.email, DEMO.admin.password)
})
afterAll(async () => { await own?.stop() })

describe('starter prompts', () => {
  it('signed-in users read them (defaults at first); an admin replaces the list; an empty list is allowed', async () => {
    const { client } = await newWorker(own.url)
    const first = await client.get('/api/starter-prompts')
    expect(first.status).toBe(200)
    expect(first.body.data.length).toBeGreaterThan(0)
    expect(first.body.data.every((p: unknown) => typeof p === 'string')).toBe(true)
    // the app's examples until an admin saves a list (the chat shows them in the reader's language)
    expect(first.body.builtIn).toBe(true)

    const saved = await admin.put('/api/admin/starter-prompts', { prompts: ['  Resume el turno  ', 'Redacta un informe de falla'] })
    expect(saved.status).toBe(200)
    expect(saved.body).toEqual({ data: ['Resume el turno', 'Redacta un informe de falla'] })
    expect((await client.get('/api/starter-prompts')).body).toEqual({ data: ['Resume el turno', 'Redacta un informe de falla'], builtIn: false })

    expect((await admin.put('/api/admin/starter-prompts', { prompts: [] })).status).toBe(200)
    expect((await client.get('/api/starter-prompts')).body).toEqual({ data: [], builtIn: false })
  })

  it('bad input → 400 naming the field, and the list stays; a worker → 403; signed out → 401', async () => {
    await admin.put('/api/admin/starter-prompts', { prompts: ['Uno'] })
    const cases: unknown[] = [
      {},
      { prompts: 'Uno' },
      { prompts: [''] },
      { prompts: ['   '] },
      { prompts: [42] },
      { prompts: ['x'.repeat(201)] },
      { prompts: Array.from({ length: 7 }, (_, i) => `P${i}`) },
      { prompts: ['Uno'], extra: true },
    ]
    for (const body of cases) {
      const res = await admin.put('/api/admin/starter-prompts', body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.message, JSON.stringify(body)).toMatch(/prompts|extra/)
    }
    expect((await admin.get('/api/starter-prompts')).body).toEqual({ data: ['Uno'], builtIn: false })
    const { client } = await newWorker(own.url)
    expect((await client.put('/api/admin/starter-prompts', { prompts: [] })).status).toBe(403)
    expect((await new Client(own.url).get('/api/starter-prompts')).status).toBe(401)
  })
})
