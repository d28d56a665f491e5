import { beforeAll, describe, expect, it } from 'vitest'
import { Client } from '../support/http'
import { auditCount, demoAdmin, makeUser, sqlRun, type TestUser } from './admin-support'

// API.md "Reports": filed by anyone, handled by staff (`reports.manage`) within scope; comments set statuses.

let admin: Client
let A: TestUser
const MISSING = '01890000-0000-7000-8000-000000000000'

beforeAll(async () => {
  admin = await demoAdmin()
  A = await makeUser(admin, 'admin', null, 'rep-admin')
})

/** A supervisor S with workers W and W2, and another team's supervisor S2 with worker X. */
async function teams() {
  const [S, S2] = await Promise.all([makeUser(admin, 'supervisor', null, 'rep-s'), makeUser(admin, 'supervisor', null, 'rep-s2')])
  const [W, W2, X] = await Promise.all([makeUser(admin, 'worker', S!.id, 'rep-w'), makeUser(admin, 'worker', S!.id, 'rep-w2'), makeUser(admin, 'worker', S2!.id, 'rep-x')])
  return { S: S!, S2: S2!, W: W!, W2: W2!, X: X! }
}

const file = async (who: TestUser, title = 'Fuga en la sala de bombas', content = 'Hay agua en el piso desde esta mañana.') => {
  const res = await who.client.post('/api/reports', { title, content })
  expect(res.status, res.text).toBe(201)
  return res.body
}

describe('POST /api/reports', () => {
  it('201 report: open, with reporter, commentCount 0, no resolution', async () => {
    const { W } = await teams()
    const report = await file(W)
    expect(report).toMatchObject({ reporterId: W.id, reporter: { id: W.id, fullName: 'Prueba rep-w' }, title: 'Fuga en la sala de bombas', content: 'Hay agua en el piso desde esta mañana.', status: 'open', commentCount: 0, resolvedAt: null, resolvedBy: null, filedVia: null })
    expect(report.createdAt).toBe(report.updatedAt)
  })

  it('title 1..255 and content 1..20000, no NUL, no unknown fields → else 400 naming the field; nothing stored', async () => {
    const { W } = await teams()
    const cases: Array<[unknown, string]> = [
      [{ title: '', content: 'x' }, 'title'], [{ title: '  ', content: 'x' }, 'title'], [{ title: 't'.repeat(256), content: 'x' }, 'title'],
      [{ title: 'a\u0000b', content: 'x' }, 'title'], [{ content: 'x' }, 'title'], [{ title: 'x', content: '' }, 'content'],
      [{ title: 'x', content: 'c'.repeat(20_001) }, 'content'], [{ title: 'x', content: 5 }, 'content'], [{ title: 'x', content: 'y', status: 'resolved' }, 'status'],
    ]
    for (const [body, field] of cases) {
      const res = await W.client.post('/api/reports', body)
      expect(res.status, JSON.stringify(body).slice(0, 60)).toBe(400)
      expect(res.body.message).toMatch(new RegExp(`^${field}`))
    }
    expect((await W.client.get('/api/reports')).body.total).toBe(0)
    expect((await W.client.post('/api/reports', { title: 't'.repeat(255), content: 'c'.repeat(20_000) })).status).toBe(201)
  })

  it('signed out → 401', async () => {
    expect((await new Client().post('/api/reports', { title: 'x', content: 'y' })).status).toBe(401)
    expect((await new Client().get('/api/reports')).status).toBe(401)
    expect((await new Client().get('/api/admin/reports')).status).toBe(401)
  })
})

describe('GET /api/reports and /api/reports/:id', () => {
  it('the caller\'s own only, newest first, filter by status, paged', async () => {
    const { W, W2 } = await teams()
    const r1 = await file(W, 'uno')
    const r2 = await file(W, 'dos')
    await file(W2, 'ajeno')
    const res = await W.client.get('/api/reports')
    expect(res.body.total).toBe(2)
    expect(res.body.data.map((r: any) => r.id)).toEqual([r2.id, r1.id])
    expect((await W.client.get('/api/reports?limit=1&offset=1')).body.data.map((r: any) => r.id)).toEqual([r1.id])
    await A.client.put(`/api/reports/${r1.id}/resolve`, {})
    expect((await W.client.get('/api/reports?status=resolved')).body.data.map((r: any) => r.id)).toEqual([r1.id])
    expect((await W.client.get('/api/reports?status=open')).body.data.map((r: any) => r.id)).toEqual([r2.id])
    expect((await W.client.get('/api/reports?status=closed')).status).toBe(400)
    expect((await W.client.get('/api/reports?status=closed')).body.message).toMatch(/^status/)
  })

  it('reporter and staff in scope read it with comments oldest first; anyone else 404; malformed id 400', async () => {
    const { S, S2, W, W2, X } = await teams()
    const report = await file(W)
    await W.client.post(`/api/reports/${report.id}/comments`, { content: 'primero' })
    await S.client.post(`/api/reports/${report.id}/comments`, { content: 'segundo', status: 'in_progress' })
    for (const reader of [W, S, A]) {
      const res = await reader.client.get(`/api/reports/${report.id}`)
      expect(res.status, reader.email).toBe(200)
      expect(res.body).toMatchObject({ id: report.id, status: 'in_progress', commentCount: 2 })
      expect(res.body.comments).toEqual([
        { id: expect.any(String), authorId: W.id, author: { id: W.id, fullName: 'Prueba rep-w' }, content: 'primero', status: null, createdAt: expect.any(String) },
        { id: expect.any(String), authorId: S.id, author: { id: S.id, fullName: 'Prueba rep-s' }, content: 'segundo', status: 'in_progress', createdAt: expect.any(String) },
      ])
    }
    for (const outsider of [W2, X, S2]) expect((await outsider.client.get(`/api/reports/${report.id}`)).status, outsider.email).toBe(404)
    expect((await W.client.get('/api/reports/nope')).status).toBe(400)
    expect((await W.client.get(`/api/reports/${MISSING}`)).status).toBe(404)
  })
})

describe('PUT /api/reports/:id', () => {
  it('the reporter edits while open; staff 403; outsiders 404; after a status change 409', async () => {
    const { S, W, X } = await teams()
    const report = await file(W)
    const res = await W.client.put(`/api/reports/${report.id}`, { title: 'Fuga (actualizado)' })
    expect(res.status, res.text).toBe(200)
    expect(res.body).toMatchObject({ title: 'Fuga (actualizado)', content: report.content, status: 'open' })
    expect(Date.parse(res.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(report.updatedAt))
    expect((await S.client.put(`/api/reports/${report.id}`, { title: 'del supervisor' })).status).toBe(403)
    expect((await A.client.put(`/api/reports/${report.id}`, { title: 'del admin' })).status).toBe(403)
    expect((await X.client.put(`/api/reports/${report.id}`, { title: 'ajeno' })).status).toBe(404)
    expect((await W.client.put(`/api/reports/${report.id}`, { title: '' })).body.message).toMatch(/^title/)
    expect((await W.client.put(`/api/reports/${report.id}`, { status: 'resolved' })).status).toBe(400)

    await S.client.post(`/api/reports/${report.id}/comments`, { content: 'lo veo', status: 'in_progress' })
    expect((await W.client.put(`/api/reports/${report.id}`, { content: 'tarde' })).status).toBe(409)
    expect((await W.client.get(`/api/reports/${report.id}`)).body.content).toBe(report.content)
  })
})

describe('POST /api/reports/:id/comments', () => {
  it('the reporter comments without status (with it 403); staff in scope set status; resolved sets resolvedAt/By, others clear them', async () => {
    const { S, W } = await teams()
    const report = await file(W)
    const mine = await W.client.post(`/api/reports/${report.id}/comments`, { content: 'más detalles' })
    expect(mine.status, mine.text).toBe(201)
    expect(mine.body).toMatchObject({ authorId: W.id, author: { id: W.id }, content: 'más detalles', status: null })
    expect((await W.client.post(`/api/reports/${report.id}/comments`, { content: 'lo cierro yo', status: 'resolved' })).status).toBe(403)

    const resolved = await S.client.post(`/api/reports/${report.id}/comments`, { content: 'listo', status: 'resolved' })
    expect(resolved.status, resolved.text).toBe(201)
    expect(resolved.body.status).toBe('resolved')
    let now = (await W.client.get(`/api/reports/${report.id}`)).body
    expect(now).toMatchObject({ status: 'resolved', resolvedBy: S.id, commentCount: 2 })
    expect(Date.parse(now.resolvedAt)).toBeGreaterThan(Date.now() - 60_000)

    // the reporter may still reply to a resolved report; it stays resolved
    expect((await W.client.post(`/api/reports/${report.id}/comments`, { content: 'gracias' })).status).toBe(201)
    expect((await W.client.get(`/api/reports/${report.id}`)).body.status).toBe('resolved')

    expect((await A.client.post(`/api/reports/${report.id}/comments`, { content: 'reabro', status: 'open' })).status).toBe(201)
    now = (await W.client.get(`/api/reports/${report.id}`)).body
    expect(now).toMatchObject({ status: 'open', resolvedAt: null, resolvedBy: null, commentCount: 4 })
    // staff may comment without changing the status
    expect((await S.client.post(`/api/reports/${report.id}/comments`, { content: 'nota' })).body.status).toBe(null)
    expect((await W.client.get(`/api/reports/${report.id}`)).body.status).toBe('open')
  })

  it('staff comments and status changes are audit events (report.comment, report.status); the reporter\'s are not', async () => {
    const { S, W } = await teams()
    const report = await file(W)
    await W.client.post(`/api/reports/${report.id}/comments`, { content: 'yo' })
    expect(await auditCount('report.comment', report.id)).toBe(0)
    await S.client.post(`/api/reports/${report.id}/comments`, { content: 'staff', status: 'in_progress' })
    await S.client.post(`/api/reports/${report.id}/comments`, { content: 'staff sin estado' })
    expect(await auditCount('report.comment', report.id)).toBe(2)
    expect(await auditCount('report.status', report.id)).toBe(1)
    const [row] = await sqlRun<{ actor_id: string, meta: unknown }>('select actor_id, meta from audit_events where action = ? and target_id = ?', ['report.status', report.id])
    expect(row!.actor_id).toBe(S.id)
    expect(JSON.stringify(row!.meta)).not.toContain('staff')
    // a status the report already has is not a change: the comment is audited, no report.status "from → same"
    await S.client.post(`/api/reports/${report.id}/comments`, { content: 'sigue en curso', status: 'in_progress' })
    expect(await auditCount('report.comment', report.id)).toBe(3)
    expect(await auditCount('report.status', report.id)).toBe(1)
    expect((await S.client.put(`/api/reports/${report.id}/resolve`, {})).status).toBe(200)
    expect((await S.client.put(`/api/reports/${report.id}/resolve`, {})).status).toBe(200)
    expect(await auditCount('report.status', report.id)).toBe(2)
    // a closing comment is a staff comment like any other: audited with its id
    const closing = await S.client.put(`/api/reports/${report.id}/resolve`, { comment: 'cerrado con nota' })
    expect(closing.status).toBe(200)
    const rows = await sqlRun<{ meta: any }>('select meta from audit_events where action = ? and target_id = ? order by at desc', ['report.comment', report.id])
    expect(rows).toHaveLength(4)
    const meta = typeof rows[0]!.meta === 'string' ? JSON.parse(rows[0]!.meta) : rows[0]!.meta
    const comments = (await S.client.get(`/api/reports/${report.id}`)).body.comments
    expect(meta).toEqual({ reporterId: W.id, commentId: comments.at(-1).id })

    // the admin's log names the report by its title and the reporter by name; a deleted report is left out
    const log = await admin.get(`/api/admin/audit?targetId=${report.id}`)
    expect(log.status).toBe(200)
    expect(log.body.total).toBe(6)
    expect(log.body.names.reports).toEqual({ [report.id]: 'Fuga en la sala de bombas' })
    expect(log.body.names.users[W.id]).toEqual(expect.any(String))
    const other = await file(W, 'Otro reporte')
    await S.client.put(`/api/reports/${other.id}/resolve`, {})
    await sqlRun('delete from reports where id = ?', [other.id])
    expect((await admin.get(`/api/admin/audit?targetId=${other.id}`)).body.names.reports).toEqual({})
  })

  it('resolves at once (a double click, two staff): one report.status audit, and resolvedAt/resolvedBy stay the first one\'s', async () => {
    const { S, W } = await teams()
    const report = await file(W)
    const both = await Promise.all([S.client.put(`/api/reports/${report.id}/resolve`, {}), admin.put(`/api/reports/${report.id}/resolve`, {})])
    expect(both.map(r => r.status)).toEqual([200, 200])
    expect(await auditCount('report.status', report.id)).toBe(1)
    const [row] = await sqlRun<{ actor_id: string }>('select actor_id from audit_events where action = ? and target_id = ?', ['report.status', report.id])
    const after = (await W.client.get(`/api/reports/${report.id}`)).body
    expect(after).toMatchObject({ status: 'resolved', resolvedBy: row!.actor_id })
    // resolving again later keeps them too
    expect((await S.client.put(`/api/reports/${report.id}/resolve`, { comment: 'otra vez' })).body).toMatchObject({ resolvedBy: after.resolvedBy, resolvedAt: after.resolvedAt })
  })

  it('staff resolving their own report with a comment: not audited as a staff comment (they are its reporter)', async () => {
    const { S } = await teams()
    const own = await file(S)
    expect((await S.client.put(`/api/reports/${own.id}/resolve`, { comment: 'lo resolví yo' })).status).toBe(200)
    expect(await auditCount('report.comment', own.id)).toBe(0)
    expect(await auditCount('report.status', own.id)).toBe(1)
  })

  it('bad input → 400 naming the field (content, status); out of scope → 404; nothing half-written', async () => {
    const { S2, W } = await teams()
    const report = await file(W)
    for (const [body, field] of [[{ content: '' }, 'content'], [{ content: 'x', status: 'closed' }, 'status'], [{ content: 'a\u0000' }, 'content'], [{ status: 'resolved' }, 'content'], [{ content: 'x', extra: 1 }, 'extra']] as const) {
      const res = await A.client.post(`/api/reports/${report.id}/comments`, body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.message).toMatch(new RegExp(`^${field}`))
    }
    expect((await S2.client.post(`/api/reports/${report.id}/comments`, { content: 'ajeno', status: 'resolved' })).status).toBe(404)
    expect((await W.client.get(`/api/reports/${report.id}`)).body).toMatchObject({ status: 'open', commentCount: 0 })
  })
})

describe('PUT /api/reports/:id/resolve', () => {
  it('staff in scope resolve (with an optional closing comment); the reporter 403; another team\'s supervisor 404', async () => {
    const { S, S2, W } = await teams()
    const report = await file(W)
    expect((await W.client.put(`/api/reports/${report.id}/resolve`, {})).status).toBe(403)
    expect((await S2.client.put(`/api/reports/${report.id}/resolve`, {})).status).toBe(404)
    const res = await S.client.put(`/api/reports/${report.id}/resolve`, { comment: 'Reparado el sello' })
    expect(res.status, res.text).toBe(200)
    expect(res.body).toMatchObject({ id: report.id, status: 'resolved', resolvedBy: S.id, commentCount: 1 })
    const detail = (await W.client.get(`/api/reports/${report.id}`)).body
    expect(detail.comments).toMatchObject([{ authorId: S.id, content: 'Reparado el sello', status: 'resolved' }])
    expect(await auditCount('report.status', report.id)).toBe(1)
    expect((await S.client.put(`/api/reports/${report.id}/resolve`, { comment: '' })).status).toBe(400)
    const plain = await file(W)
    expect((await A.client.put(`/api/reports/${plain.id}/resolve`)).body).toMatchObject({ status: 'resolved', resolvedBy: A.id, commentCount: 0 })
  })

  it('a supervisor handles their own reports too (self is in their scope)', async () => {
    const { S } = await teams()
    const report = await file(S)
    expect((await S.client.put(`/api/reports/${report.id}/resolve`, {})).status).toBe(200)
  })
})

describe('GET /api/admin/reports', () => {
  it('staff see reports in scope, open before in progress before resolved, oldest first; workers 403', async () => {
    const { S, W, W2, X } = await teams()
    const first = await file(W, 'primero')
    const second = await file(W2, 'segundo')
    const third = await file(W, 'tercero')
    const other = await file(X, 'otro equipo')
    await S.client.post(`/api/reports/${first.id}/comments`, { content: 'en curso', status: 'in_progress' })
    await S.client.put(`/api/reports/${second.id}/resolve`, {})
    const res = await S.client.get(`/api/admin/reports?limit=100`)
    expect(res.status, res.text).toBe(200)
    const ids = res.body.data.map((r: any) => r.id)
    expect(ids).toEqual([third.id, first.id, second.id])
    expect(res.body.total).toBe(3)
    expect(ids).not.toContain(other.id)
    expect((await W.client.get('/api/admin/reports')).status).toBe(403)

    const all = await A.client.get(`/api/admin/reports?reporterId=${X.id}`)
    expect(all.body.data.map((r: any) => r.id)).toEqual([other.id])
  })

  it('filters: status, reporterId (out of scope → 404), q on title and content; bad values → 400', async () => {
    const { S, W, W2, X } = await teams()
    const tag = Math.random().toString(36).slice(2, 8)
    const a = await file(W, `Compresor ${tag}`, 'ruido')
    const b = await file(W2, 'Otro', `El COMPRESOR ${tag} vibra`)
    await file(W, 'Nada que ver', 'x')
    const q = await S.client.get(`/api/admin/reports?q=${encodeURIComponent(`compresor ${tag}`)}`)
    expect(q.body.data.map((r: any) => r.id)).toEqual([a.id, b.id])
    // without the accents, as people type on a phone: "camion" finds "Camión", "ÑANDU" finds "ñandú"
    const accented = await file(W, `Camión ñandú ${tag}`, 'en el patio')
    expect((await S.client.get(`/api/admin/reports?q=${encodeURIComponent(`camion nandu ${tag}`)}`)).body.data.map((r: any) => r.id)).toEqual([accented.id])
    expect((await S.client.get(`/api/admin/reports?q=${encodeURIComponent(`CAMIÓN ÑANDÚ ${tag}`)}`)).body.data.map((r: any) => r.id)).toEqual([accented.id])
    expect((await S.client.get(`/api/admin/reports?reporterId=${W2.id}`)).body.data.map((r: any) => r.id)).toEqual([b.id])
    expect((await S.client.get(`/api/admin/reports?reporterId=${X.id}`)).status).toBe(404)
    expect((await S.client.get(`/api/admin/reports?status=resolved&reporterId=${W.id}`)).body.total).toBe(0)
    for (const [query, field] of [['status=done', 'status'], ['reporterId=1', 'reporterId'], ['q=%00', 'q'], ['limit=500', 'limit']]) {
      const res = await S.client.get(`/api/admin/reports?${query}`)
      expect(res.status, query).toBe(400)
      expect(res.body.message).toMatch(new RegExp(`^${field}`))
    }
  })
})

describe('GET /api/admin/reports/reporters', () => {
  it('the queue\'s person filter: who filed reports within the caller\'s scope, themself included, by name; workers 403', async () => {
    const { S, W, W2, X } = await teams()
    await admin.patch(`/api/admin/users/${W.id}`, { fullName: 'Zoila Turno' })
    await admin.patch(`/api/admin/users/${S.id}`, { fullName: 'Amalia Jefa' })
    await file(W)
    await file(W)
    await file(S, 'propio')
    await file(X, 'otro equipo')
    // W2 filed nothing: not offered, there is nothing of theirs to show
    const res = await S.client.get('/api/admin/reports/reporters')
    expect(res.status, res.text).toBe(200)
    expect(res.body).toEqual({ data: [{ id: S.id, fullName: 'Amalia Jefa' }, { id: W.id, fullName: 'Zoila Turno' }] })
    expect(res.body.data.map((p: any) => p.id)).not.toContain(W2.id)
    // each one offered is one the queue answers for (never the 404 of a person out of scope)
    for (const p of res.body.data) expect((await S.client.get(`/api/admin/reports?reporterId=${p.id}`)).body.total).toBeGreaterThan(0)
    const everyone = (await A.client.get('/api/admin/reports/reporters')).body.data.map((p: any) => p.id)
    expect(everyone).toEqual(expect.arrayContaining([S.id, W.id, X.id]))
    expect((await W.client.get('/api/admin/reports/reporters')).status).toBe(403)
  })
})
