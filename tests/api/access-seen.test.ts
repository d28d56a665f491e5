import { beforeAll, describe, expect, it } from 'vitest'
import type { Client } from '../support/http'
import { demoAdmin, insertConversation, makeTeam, type TestUser } from './admin-support'

const MISSING = '01890000-0000-7000-8000-000000000000'
let admin: Client
let team: { supervisor: TestUser, workers: TestUser[] }

beforeAll(async () => {
  admin = await demoAdmin()
  team = await makeTeam(admin, 2)
})

const unseen = async (user: TestUser) => {
  const res = await user.client.get('/api/conversations/access-unseen')
  expect(res.status).toBe(200)
  return res.body.data as Array<{ conversationId: string, count: number, lastAt: string }>
}

// issue 13.2: the owner sees a dot on conversations someone opened since they last looked at the access log
describe('access-log "last looked" marker', () => {
  it('reads by others show up as unseen until the owner marks the log seen; later reads show up again', async () => {
    const owner = team.workers[0]!
    const id = await insertConversation(owner.id, { messages: [{ role: 'user', content: 'hola' }] })
    const quiet = await insertConversation(owner.id)
    expect((await unseen(owner)).map(u => u.conversationId)).not.toContain(id)

    await team.supervisor.client.get(`/api/admin/conversations/${id}/messages`)
    await admin.get(`/api/admin/conversations/${id}/messages`)
    const before = await unseen(owner)
    const entry = before.find(u => u.conversationId === id)
    expect(entry).toMatchObject({ conversationId: id, count: 2 })
    expect(Number.isNaN(Date.parse(entry!.lastAt))).toBe(false)
    expect(before.map(u => u.conversationId)).not.toContain(quiet)
    // a teammate never sees someone else's marker
    expect((await unseen(team.workers[1]!)).map(u => u.conversationId)).not.toContain(id)

    const seen = await owner.client.put(`/api/conversations/${id}/access-log/seen`)
    expect(seen.status).toBe(204)
    expect((await unseen(owner)).map(u => u.conversationId)).not.toContain(id)

    await expect.poll(async () => {
      await admin.get(`/api/admin/conversations/${id}/messages`)
      return (await unseen(owner)).find(u => u.conversationId === id)?.count ?? 0
    }).toBeGreaterThanOrEqual(1)
  })

  it('only the owner marks it: a supervisor in scope → 403, another worker → 404, a missing id → 404, a bad id → 400', async () => {
    const owner = team.workers[0]!
    const id = await insertConversation(owner.id)
    expect((await team.supervisor.client.put(`/api/conversations/${id}/access-log/seen`)).status).toBe(403)
    expect((await team.workers[1]!.client.put(`/api/conversations/${id}/access-log/seen`)).status).toBe(404)
    expect((await owner.client.put(`/api/conversations/${MISSING}/access-log/seen`)).status).toBe(404)
    const bad = await owner.client.put('/api/conversations/not-an-id/access-log/seen')
    expect(bad.status).toBe(400)
    expect(bad.text).toContain('id')
  })
})
