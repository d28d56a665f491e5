import { beforeAll, describe, expect, it } from 'vitest'
import type { Client } from '../support/http'
import { auditCount, conversationOwner, demoAdmin, insertConversation, makeTeam, makeUser, sqlRun, type TestUser } from './admin-support'

const MISSING = '01890000-0000-7000-8000-000000000000'
let admin: Client
let adminId: string
let team: { supervisor: TestUser, workers: TestUser[] }
let other: { supervisor: TestUser, workers: TestUser[] }

beforeAll(async () => {
  admin = await demoAdmin()
  adminId = (await admin.get('/api/auth/me')).body.id
  team = await makeTeam(admin, 2)
  other = await makeTeam(admin, 1)
})

const metaOf = (row: { meta: unknown }) => (typeof row.meta === 'string' ? JSON.parse(row.meta) : row.meta) as Record<string, unknown>

describe('GET /api/admin/users/:id/conversations', () => {
  it('lists the user\'s conversations newest first with message counts, paged', async () => {
    const worker = team.workers[0]!
    const old = await insertConversation(worker.id, { title: 'Antigua', at: new Date(Date.now() - 86_400_000), messages: [{ role: 'user', content: 'hola' }, { role: 'assistant', content: 'buenas' }] })
    const recent = await insertConversation(worker.id, { title: 'Reciente', messages: [{ role: 'user', content: 'uno' }] })
    const res = await admin.get(`/api/admin/users/${worker.id}/conversations`)
    expect(res.status).toBe(200)
    expect(res.body.total).toBe(2)
    expect(res.body.data.map((c: any) => c.id)).toEqual([recent, old])
    expect(res.body.data[1]).toMatchObject({ id: old, userId: worker.id, title: 'Antigua', model: 'qwen2.5:3b-instruct', pinned: false, archived: false, messageCount: 2 })
    expect(Object.keys(res.body.data[0]).sort()).toEqual(['archived', 'createdAt', 'id', 'messageCount', 'model', 'pinned', 'systemPromptId', 'title', 'updatedAt', 'userId'])
    const page = await admin.get(`/api/admin/users/${worker.id}/conversations?limit=1&offset=1`)
    expect(page.body).toMatchObject({ total: 2, data: [{ id: old }] })
  })

  it('a supervisor reads their team (200) but not another team (404) nor unknown users (404)', async () => {
    expect((await team.supervisor.client.get(`/api/admin/users/${team.workers[0]!.id}/conversations`)).status).toBe(200)
    expect((await team.supervisor.client.get(`/api/admin/users/${other.workers[0]!.id}/conversations`)).status).toBe(404)
    expect((await team.supervisor.client.get(`/api/admin/users/${other.supervisor.id}/conversations`)).status).toBe(404)
    expect((await team.supervisor.client.get(`/api/admin/users/${adminId}/conversations`)).status).toBe(404)
    expect((await admin.get(`/api/admin/users/${MISSING}/conversations`)).status).toBe(404)
    expect((await admin.get(`/api/admin/users/${MISSING}/conversations?offset=50`)).status).toBe(404)
    expect((await admin.get('/api/admin/users/123/conversations')).status).toBe(400)
  })

  it('a user without conversations: 200, total 0 (an unknown user is a 404, above)', async () => {
    const empty = await makeUser(admin, 'worker')
    const res = await admin.get(`/api/admin/users/${empty.id}/conversations`)
    expect(res.status).toBe(200)
    expect(res.body).toEqual({ total: 0, data: [], nextCursor: null })
  })

  it('a worker gets 403, even for their own id', async () => {
    expect((await team.workers[0]!.client.get(`/api/admin/users/${team.workers[0]!.id}/conversations`)).status).toBe(403)
  })
})

describe('GET /api/admin/conversations/:id/messages', () => {
  it('answers the messages oldest first, pages backwards with before, and audits the read', async () => {
    const worker = team.workers[1]!
    const id = await insertConversation(worker.id, { messages: Array.from({ length: 5 }, (_, i) => ({ role: i % 2 ? 'assistant' as const : 'user' as const, content: `m${i}` })) })
    const res = await team.supervisor.client.get(`/api/admin/conversations/${id}/messages`)
    expect(res.status).toBe(200)
    expect(res.body.total).toBe(5)
    expect(res.body.data.map((m: any) => m.content)).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
    expect(res.body.data[1]).toMatchObject({ conversationId: id, role: 'assistant', status: 'complete', model: 'qwen2.5:3b-instruct' })
    const older = await team.supervisor.client.get(`/api/admin/conversations/${id}/messages?limit=2&before=${res.body.data[3].id}`)
    expect(older.body.data.map((m: any) => m.content)).toEqual(['m1', 'm2'])

    const events = await sqlRun<{ actor_id: string, meta: unknown }>('select actor_id, meta from audit_events where action = ? and target_id = ?', ['conversation.read', id])
    expect(events).toHaveLength(2)
    expect(events[0]!.actor_id).toBe(team.supervisor.id)
    expect(metaOf(events[0]!)).toEqual({ ownerId: worker.id })
  })

  it('an admin reading their own conversation is not audited; out of scope → 404; worker → 403', async () => {
    const own = await insertConversation(adminId, { messages: [{ role: 'user', content: 'mío' }] })
    expect((await admin.get(`/api/admin/conversations/${own}/messages`)).status).toBe(200)
    expect(await auditCount('conversation.read', own)).toBe(0)

    const foreign = await insertConversation(other.workers[0]!.id, { messages: [{ role: 'user', content: 'ajeno' }] })
    expect((await team.supervisor.client.get(`/api/admin/conversations/${foreign}/messages`)).status).toBe(404)
    expect(await auditCount('conversation.read', foreign)).toBe(0)
    expect((await other.workers[0]!.client.get(`/api/admin/conversations/${foreign}/messages`)).status).toBe(403)
    expect((await admin.get(`/api/admin/conversations/${MISSING}/messages`)).status).toBe(404)
    expect((await admin.get(`/api/admin/conversations/${foreign}/messages?before=${MISSING}`)).status).toBe(404)
    expect((await admin.get(`/api/admin/conversations/${foreign}/messages?limit=abc`)).body.message).toContain('limit')
  })
})

describe('GET /api/conversations/:id/access-log (owner transparency)', () => {
  it('the owner sees who opened their conversation and when; other workers get 404', async () => {
    const worker = await makeUser(admin, 'worker', team.supervisor.id)
    const id = await insertConversation(worker.id, { messages: [{ role: 'user', content: 'privado' }] })
    const empty = await worker.client.get(`/api/conversations/${id}/access-log`)
    expect(empty.status).toBe(200)
    expect(empty.body).toEqual({ total: 0, data: [] })

    const before = Date.now()
    await team.supervisor.client.get(`/api/admin/conversations/${id}/messages`)
    await admin.get(`/api/admin/conversations/${id}/messages`)
    const log = await worker.client.get(`/api/conversations/${id}/access-log`)
    expect(log.status).toBe(200)
    expect(log.body.total).toBe(2)
    expect(log.body.data.map((e: any) => e.actor.role)).toEqual(['admin', 'supervisor'])
    expect(log.body.data[1]).toMatchObject({ action: 'conversation.read', actor: { id: team.supervisor.id, fullName: 'Prueba supervisor', role: 'supervisor' } })
    expect(Date.parse(log.body.data[1].at)).toBeGreaterThanOrEqual(before - 1000)
    expect(log.text).not.toContain('privado')

    expect((await team.workers[0]!.client.get(`/api/conversations/${id}/access-log`)).status).toBe(404)
    expect((await other.supervisor.client.get(`/api/conversations/${id}/access-log`)).status).toBe(404)
  })
})

describe('PATCH /api/admin/conversations/:id/reassign', () => {
  const reassign = (client: Client, id: string, targetUserId: unknown) =>
    client.patch(`/api/admin/conversations/${id}/reassign`, { targetUserId })

  it('admin → any active user: 200 {message, data: conversation}, the owner changes, audited with from/to', async () => {
    const from = team.workers[0]!
    const id = await insertConversation(from.id, { messages: [{ role: 'user', content: 'x' }] })
    const res = await reassign(admin, id, other.workers[0]!.id)
    expect(res.status).toBe(200)
    expect(typeof res.body.message).toBe('string')
    expect(res.body.data).toMatchObject({ id, userId: other.workers[0]!.id, messageCount: 1 })
    expect(await conversationOwner(id)).toBe(other.workers[0]!.id)
    const [event] = await sqlRun<{ actor_id: string, meta: unknown }>('select actor_id, meta from audit_events where action = ? and target_id = ?', ['conversation.reassigned', id])
    expect(event!.actor_id).toBe(adminId)
    expect(metaOf(event!)).toEqual({ from: from.id, to: other.workers[0]!.id })
    const listed = await admin.get(`/api/admin/users/${other.workers[0]!.id}/conversations?limit=100`)
    expect(listed.body.data.map((c: any) => c.id)).toContain(id)
    // the new owner's access log shows the move
    const log = await other.workers[0]!.client.get(`/api/conversations/${id}/access-log`)
    expect(log.body.data.map((e: any) => e.action)).toContain('conversation.reassigned')
  })

  it('supervisor within the team → 200 (to a teammate and to themself)', async () => {
    const id = await insertConversation(team.workers[0]!.id)
    expect((await reassign(team.supervisor.client, id, team.workers[1]!.id)).status).toBe(200)
    expect(await conversationOwner(id)).toBe(team.workers[1]!.id)
    expect((await reassign(team.supervisor.client, id, team.supervisor.id)).status).toBe(200)
    expect(await conversationOwner(id)).toBe(team.supervisor.id)
  })

  it('supervisor to a user outside the team → 403, nothing moves', async () => {
    const id = await insertConversation(team.workers[0]!.id)
    for (const target of [other.workers[0]!.id, other.supervisor.id, adminId]) {
      const res = await reassign(team.supervisor.client, id, target)
      expect(res.status, target).toBe(403)
    }
    expect(await conversationOwner(id)).toBe(team.workers[0]!.id)
    expect(await auditCount('conversation.reassigned', id)).toBe(0)
  })

  it('conversation outside the caller\'s scope → 404 (even to a target in scope)', async () => {
    const id = await insertConversation(other.workers[0]!.id)
    expect((await reassign(team.supervisor.client, id, team.workers[0]!.id)).status).toBe(404)
    expect((await reassign(admin, MISSING, team.workers[0]!.id)).status).toBe(404)
    expect(await conversationOwner(id)).toBe(other.workers[0]!.id)
  })

  it('missing or inactive target → 400 naming targetUserId', async () => {
    const id = await insertConversation(team.workers[0]!.id)
    const inactive = await makeUser(admin, 'worker', team.supervisor.id)
    await admin.patch(`/api/admin/users/${inactive.id}`, { active: false })
    for (const client of [admin, team.supervisor.client]) {
      for (const target of [MISSING, inactive.id]) {
        const res = await reassign(client, id, target)
        expect(res.status, target).toBe(400)
        expect(res.body.message).toContain('targetUserId')
      }
    }
    expect(await conversationOwner(id)).toBe(team.workers[0]!.id)
  })

  // Contract audit: at once, PostgreSQL answered 409 to all but one (a status the route does not list), SQLite 200.
  it('reassigns at once: each answers as if it came after the others (200), and the audit log chains the moves', async () => {
    const id = await insertConversation(team.workers[0]!.id)
    const targets = [team.workers[1]!, other.workers[0]!, other.supervisor, team.supervisor, team.workers[0]!, other.workers[0]!]
    const answers = await Promise.all(targets.map(t => reassign(admin, id, t.id)))
    expect(answers.map(a => a.status)).toEqual(targets.map(() => 200))
    const owner = await conversationOwner(id)
    expect(targets.map(t => t.id)).toContain(owner)
    // every move starts from where the one before it ended: the moves can be put in one chain from the first owner to
    // the last. Searched with backtracking: an owner can be left more than once (the targets repeat), and taking the
    // wrong move out of it first is a dead end that says nothing about the server
    const moves = (await sqlRun<{ meta: unknown }>('select meta from audit_events where action = ? and target_id = ?', ['conversation.reassigned', id]))
      .map(metaOf).map(m => ({ from: m.from as string, to: m.to as string }))
    expect(moves.length).toBeGreaterThan(0)
    const chains = (at: string, left: typeof moves): boolean => left.length === 0
      ? at === owner
      : left.some((m, i) => m.from === at && chains(m.to, left.filter((_, j) => j !== i)))
    expect(chains(team.workers[0]!.id, moves), JSON.stringify(moves)).toBe(true)
  })

  it('a reassign racing a delete: 404 when the delete came first, never 409 or 500', async () => {
    const owner = team.workers[0]!
    const id = await insertConversation(owner.id)
    const [moved, deleted] = await Promise.all([reassign(admin, id, team.workers[1]!.id), owner.client.delete(`/api/conversations/${id}`)])
    expect([200, 404]).toContain(moved.status)
    // the owner's delete sees the conversation as theirs or as moved away (404): either way, nothing half-done
    expect([204, 404]).toContain(deleted.status)
    expect((await admin.get(`/api/conversations/${id}`)).status).toBe(deleted.status === 204 ? 404 : 200)
  })

  it('worker → 403 (own conversation included); malformed input → 400', async () => {
    const worker = team.workers[0]!
    const id = await insertConversation(worker.id)
    expect((await reassign(worker.client, id, team.workers[1]!.id)).status).toBe(403)
    for (const body of [{}, { targetUserId: 'abc' }, { targetUserId: 5 }, { targetUserId: worker.id, extra: 1 }]) {
      const res = await admin.patch(`/api/admin/conversations/${id}/reassign`, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
    }
    expect((await admin.patch(`/api/admin/conversations/not-an-id/reassign`, { targetUserId: worker.id })).body.message).toContain('id')
    expect(await conversationOwner(id)).toBe(worker.id)
  })
})
