import { uuidv7 } from 'uuidv7'
import { beforeAll, describe, expect, it } from 'vitest'
import { BUILT_IN, PERMISSIONS } from '../../shared/permissions'
import { Client, DEMO, uniqueEmail } from '../support/http'
import { auditCount, conversationOwner, demoAdmin, insertConversation, makeTeam, makeUser, ownServer, sqlRun, type TestUser } from './admin-support'

/** API.md "Roles and permissions": roles CRUD, assignment, and the admin user routes that came with them. */

let admin: Client
const MISSING = '01890000-0000-7000-8000-000000000000'
const roleName = (prefix = 'Rol') => `${prefix} ${uuidv7().slice(-8)}`

beforeAll(async () => { admin = await demoAdmin() })

async function createRole(permissions: string[], name = roleName(), client = admin) {
  const res = await client.post('/api/admin/roles', { name, description: 'de prueba', permissions })
  expect(res.status, res.text).toBe(201)
  return res.body as { id: string, name: string, permissions: string[], builtIn: boolean, userCount: number }
}

const assign = (userId: string, roleIds: string[], client = admin) => client.put(`/api/admin/users/${userId}/roles`, { roleIds })

describe('GET /api/admin/roles', () => {
  it('lists the three built-in roles with their fixed ids and permissions, then custom roles with user counts', async () => {
    const custom = await createRole(['audit.read'])
    const res = await admin.get('/api/admin/roles')
    expect(res.status).toBe(200)
    const byName = new Map(res.body.data.map((r: any) => [r.name, r]))
    for (const name of ['admin', 'supervisor', 'worker'] as const) {
      expect(byName.get(name)).toMatchObject({ id: BUILT_IN[name].id, builtIn: true, permissions: [...BUILT_IN[name].permissions] })
      expect((byName.get(name) as any).userCount).toBeGreaterThanOrEqual(1)
    }
    expect(res.body.data.slice(0, 3).map((r: any) => r.name)).toEqual(['admin', 'supervisor', 'worker'])
    expect(byName.get(custom.name)).toEqual({ id: custom.id, name: custom.name, description: 'de prueba', permissions: ['audit.read'], builtIn: false, userCount: 0 })
  })

  it('needs roles.manage: supervisor and worker → 403', async () => {
    const { supervisor, workers } = await makeTeam(admin, 1)
    expect((await supervisor.client.get('/api/admin/roles')).status).toBe(403)
    expect((await workers[0]!.client.get('/api/admin/roles')).status).toBe(403)
  })
})

describe('POST /api/admin/roles', () => {
  it('201 with the permissions in catalogue order, deduplicated; audited', async () => {
    const role = await createRole(['audit.read', 'conversations.read.all', 'audit.read'])
    expect(role).toMatchObject({ builtIn: false, userCount: 0, permissions: ['conversations.read.all', 'audit.read'] })
    expect(await auditCount('admin.role_created', role.id)).toBe(1)
  })

  it('an unknown permission → 400 naming permissions and the unknown name; nothing is created', async () => {
    const name = roleName()
    const res = await admin.post('/api/admin/roles', { name, permissions: ['chat.use', 'root.everything'] })
    expect(res.status).toBe(400)
    expect(res.body.message).toContain('permissions')
    expect(res.body.message).toContain('root.everything')
    expect(res.body.data.fields.permissions).toBeTruthy()
    expect((await admin.get('/api/admin/roles')).body.data.some((r: any) => r.name === name)).toBe(false)
  })

  it('a taken name → 409, case-insensitively, also against the built-in names', async () => {
    const role = await createRole(['chat.use'])
    for (const name of [role.name, role.name.toUpperCase(), `  ${role.name.toLowerCase()} `, 'Admin', 'WORKER', 'supervisor']) {
      const res = await admin.post('/api/admin/roles', { name, permissions: [] })
      expect(res.status, name).toBe(409)
      expect(res.body.message).toContain('name')
    }
  })

  // Contract audit: SQLite's lower() folds only ASCII, so "élite" was free there after "ÉLITE" (409 on PostgreSQL)
  it('a taken name → 409 also when only accented capitals differ, on both databases', async () => {
    const tail = uuidv7().slice(-8)
    expect((await admin.post('/api/admin/roles', { name: `ÉLITE ÑANDÚ ${tail}`, permissions: [] })).status).toBe(201)
    const res = await admin.post('/api/admin/roles', { name: `élite ñandú ${tail}`, permissions: [] })
    expect(res.status).toBe(409)
    expect(res.body.data.fields.name).toBeTruthy()
  })

  it('bad bodies → 400 naming the field', async () => {
    const cases: Array<[unknown, string]> = [
      [{ permissions: [] }, 'name'],
      [{ name: '   ', permissions: [] }, 'name'],
      [{ name: 'x'.repeat(61), permissions: [] }, 'name'],
      [{ name: roleName() }, 'permissions'],
      [{ name: roleName(), permissions: 'audit.read' }, 'permissions'],
      [{ name: roleName(), permissions: [1] }, 'permissions'],
      [{ name: roleName(), permissions: [], builtIn: true }, 'builtIn'],
      [{ name: roleName(), permissions: [], description: 'x'.repeat(501) }, 'description'],
    ]
    for (const [body, field] of cases) {
      const res = await admin.post('/api/admin/roles', body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      expect(res.body.message, JSON.stringify(body)).toMatch(new RegExp(`^${field}`))
    }
  })
})

describe('PATCH and DELETE /api/admin/roles/:id', () => {
  it('PATCH renames and changes permissions; 200 with the role; audited', async () => {
    const role = await createRole(['chat.use'])
    const name = roleName('Renombrado')
    const res = await admin.patch(`/api/admin/roles/${role.id}`, { name, permissions: ['users.read'] })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id: role.id, name, permissions: ['users.read'], builtIn: false })
    // the same name in another case is not a conflict with itself
    expect((await admin.patch(`/api/admin/roles/${role.id}`, { name: name.toUpperCase() })).status).toBe(200)
    expect(await auditCount('admin.role_updated', role.id)).toBe(2)
  })

  it('PATCH to a taken name → 409; unknown permission → 400; unknown id → 404; malformed id → 400', async () => {
    const [a, b] = [await createRole([]), await createRole([])]
    expect((await admin.patch(`/api/admin/roles/${a.id}`, { name: b.name.toLowerCase() })).status).toBe(409)
    expect((await admin.patch(`/api/admin/roles/${a.id}`, { name: 'admin' })).status).toBe(409)
    const bad = await admin.patch(`/api/admin/roles/${a.id}`, { permissions: ['nope'] })
    expect(bad.status).toBe(400)
    expect(bad.body.message).toContain('nope')
    expect((await admin.patch(`/api/admin/roles/${MISSING}`, { description: 'x' })).status).toBe(404)
    expect((await admin.patch('/api/admin/roles/abc', { description: 'x' })).status).toBe(400)
  })

  it('built-in roles cannot be edited or deleted → 403', async () => {
    for (const { id } of Object.values(BUILT_IN)) {
      expect((await admin.patch(`/api/admin/roles/${id}`, { description: 'x' })).status).toBe(403)
      expect((await admin.delete(`/api/admin/roles/${id}`)).status).toBe(403)
    }
  })

  it('DELETE a role still assigned → 409; once nobody holds it → 204 and it is gone; audited', async () => {
    const role = await createRole(['audit.read'])
    const worker = await makeUser(admin, 'worker')
    expect((await assign(worker.id, [role.id])).status).toBe(200)
    const listed = (await admin.get('/api/admin/roles')).body.data.find((r: any) => r.id === role.id)
    expect(listed.userCount).toBe(1)
    const busy = await admin.delete(`/api/admin/roles/${role.id}`)
    expect(busy.status).toBe(409)
    expect(busy.body.message).toMatch(/assigned/)
    expect((await assign(worker.id, [])).status).toBe(200)
    expect((await admin.delete(`/api/admin/roles/${role.id}`)).status).toBe(204)
    expect((await admin.delete(`/api/admin/roles/${role.id}`)).status).toBe(404)
    expect(await auditCount('admin.role_deleted', role.id)).toBe(1)
  })
})

describe('GET/PUT /api/admin/users/:id/roles', () => {
  it('an extra role takes effect on the user\'s next request, and so does taking it away (no new sign-in)', async () => {
    const role = await createRole(['audit.read', 'conversations.read.all'], roleName('Auditor'))
    const worker = await makeUser(admin, 'worker')
    const other = await makeUser(admin, 'worker')
    const theirs = await insertConversation(other.id)
    expect((await worker.client.get('/api/admin/audit')).status).toBe(403)
    expect((await worker.client.get(`/api/conversations/${theirs}`)).status).toBe(404)

    const res = await assign(worker.id, [role.id])
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id: worker.id, role: 'worker', roles: [role.name] })
    expect(res.body.permissions).toEqual(PERMISSIONS.filter(p => ['chat.use', 'messages.use', 'reports.create', 'audit.read', 'conversations.read.all'].includes(p)))
    const me = (await worker.client.get('/api/auth/me')).body
    expect(me.roles).toEqual([role.name])
    expect(me.permissions).toContain('audit.read')
    expect((await worker.client.get('/api/admin/audit')).status).toBe(200)
    expect((await worker.client.get(`/api/conversations/${theirs}`)).status).toBe(200)
    // reading all conversations is not reassigning them
    expect((await worker.client.patch(`/api/admin/conversations/${theirs}/reassign`, { targetUserId: worker.id })).status).toBe(403)
    expect((await admin.get(`/api/admin/users/${worker.id}/roles`)).body.data.map((r: any) => r.id)).toEqual([role.id])
    expect(await auditCount('admin.user_roles_changed', worker.id)).toBe(1)

    expect((await assign(worker.id, [])).status).toBe(200)
    expect((await worker.client.get('/api/admin/audit')).status).toBe(403)
    expect((await worker.client.get(`/api/conversations/${theirs}`)).status).toBe(404)
    expect((await admin.get(`/api/admin/users/${worker.id}/roles`)).body.data).toEqual([])
  })

  it('a permission dropped from a role leaves every holder at once', async () => {
    const role = await createRole(['audit.read'])
    const worker = await makeUser(admin, 'worker')
    await assign(worker.id, [role.id])
    expect((await worker.client.get('/api/admin/audit')).status).toBe(200)
    expect((await admin.patch(`/api/admin/roles/${role.id}`, { permissions: [] })).status).toBe(200)
    expect((await worker.client.get('/api/admin/audit')).status).toBe(403)
  })

  it('a built-in id in roleIds → 400 naming roleIds; an unknown id → 400; nothing changes', async () => {
    const role = await createRole(['users.read'])
    const worker = await makeUser(admin, 'worker')
    await assign(worker.id, [role.id])
    for (const roleIds of [[BUILT_IN.admin.id], [role.id, BUILT_IN.supervisor.id], [MISSING], ['abc']]) {
      const res = await assign(worker.id, roleIds)
      expect(res.status, JSON.stringify(roleIds)).toBe(400)
      expect(res.body.message).toMatch(/^roleIds/)
    }
    expect((await worker.client.get('/api/auth/me')).body.roles).toEqual([role.name])
    expect((await assign(worker.id, 'x' as never)).status).toBe(400)
  })

  it('only roles.manage assigns: a supervisor → 403; a user with users.manage but not roles.manage cannot give themself a role → 403', async () => {
    const powerful = await createRole(['settings.manage', 'audit.read'])
    const manager = await createRole(['users.manage'])
    const { supervisor, workers } = await makeTeam(admin, 1)
    expect((await assign(workers[0]!.id, [powerful.id], supervisor.client)).status).toBe(403)
    const worker = await makeUser(admin, 'worker')
    await assign(worker.id, [manager.id])
    expect((await assign(worker.id, [manager.id, powerful.id], worker.client)).status).toBe(403)
    expect((await worker.client.get('/api/auth/me')).body.roles).toEqual([manager.name])
  })

  it('users.manage without admin\'s other permissions cannot make an admin or touch an admin\'s account (403), nor deactivate themself', async () => {
    const manager = await makeUser(admin, 'supervisor')
    await assign(manager.id, [(await createRole(['users.manage'])).id])
    const other = await makeUser(admin, 'admin')
    const me = manager.client
    // promoting: themself, a new account, another user → 403 naming role; nothing changed
    for (const res of [
      await me.patch(`/api/admin/users/${manager.id}`, { role: 'admin' }),
      await me.post('/api/admin/users', { email: uniqueEmail('escalate'), fullName: 'Nuevo admin', role: 'admin' }),
      await me.patch(`/api/admin/users/${(await makeUser(admin, 'worker')).id}`, { role: 'admin' }),
    ]) {
      expect(res.status, res.text).toBe(403)
      expect(res.body.data.fields.role).toMatch(/permissions you do not have/)
    }
    expect((await me.get('/api/auth/me')).body).toMatchObject({ role: 'supervisor', permissions: expect.not.arrayContaining(['roles.manage']) })
    // an admin's account: edit, password reset, 2FA reset, phone, delete → 403; the admin still signs in with their password
    for (const res of [
      await me.patch(`/api/admin/users/${other.id}`, { fullName: 'Cambiado' }),
      await me.post(`/api/admin/users/${other.id}/reset-password`),
      await me.post(`/api/admin/users/${other.id}/reset-2fa`),
      await me.post(`/api/admin/users/${other.id}/phone`, { phone: '+56911112222' }),
      await me.delete(`/api/admin/users/${other.id}`),
    ]) expect(res.status, res.text).toBe(403)
    expect((await admin.get(`/api/admin/users/${other.id}`)).body).toMatchObject({ fullName: 'Prueba admin', active: true, phone: null })
    expect((await other.client.get('/api/auth/me')).status).toBe(200)
    // nor themself out of the app
    const off = await me.patch(`/api/admin/users/${manager.id}`, { active: false })
    expect(off.status, off.text).toBe(403)
    expect((await me.get('/api/auth/me')).status).toBe(200)
    // what the permission is for still works: workers and supervisors are created, edited and reset
    const created = await me.post('/api/admin/users', { email: uniqueEmail('hecho'), fullName: 'Nueva supervisora', role: 'supervisor' })
    expect(created.status, created.text).toBe(201)
    expect((await me.patch(`/api/admin/users/${created.body.user.id}`, { role: 'worker' })).status).toBe(200)
    expect((await me.post(`/api/admin/users/${created.body.user.id}/reset-password`)).status).toBe(200)
  })

  it('a user with extra permissions is out of reach of a users.manage holder who lacks them (403)', async () => {
    const manager = await makeUser(admin, 'supervisor')
    await assign(manager.id, [(await createRole(['users.manage'])).id])
    const auditor = await makeUser(admin, 'worker')
    await assign(auditor.id, [(await createRole(['audit.read'])).id])
    expect((await manager.client.post(`/api/admin/users/${auditor.id}/reset-password`)).status).toBe(403)
    expect((await admin.post(`/api/admin/users/${auditor.id}/reset-password`)).status).toBe(200)
  })

  it('unknown user → 404; a user outside a roles.manage holder\'s reach does not exist for them', async () => {
    expect((await assign(MISSING, [])).status).toBe(404)
    expect((await admin.get(`/api/admin/users/${MISSING}/roles`)).status).toBe(404)
  })
})

describe('GET /api/admin/users?roleId (who holds a role)', () => {
  it('a custom role\'s id lists exactly its holders (with the other filters); a built-in id is the role filter', async () => {
    const role = await createRole(['audit.read'])
    const other = await createRole(['audit.read'])
    const { supervisor, workers } = await makeTeam(admin, 2)
    const outsider = await makeUser(admin, 'worker')
    expect((await assign(workers[0]!.id, [role.id])).status).toBe(200)
    expect((await assign(supervisor.id, [role.id, other.id])).status).toBe(200)
    expect((await assign(outsider.id, [role.id])).status).toBe(200)
    expect((await assign(workers[1]!.id, [other.id])).status).toBe(200)
    const ids = (res: { body: any }) => res.body.data.map((u: any) => u.id).sort()

    const holders = await admin.get(`/api/admin/users?roleId=${role.id}`)
    expect(holders.status).toBe(200)
    expect(holders.body.total).toBe(3)
    expect(ids(holders)).toEqual([workers[0]!.id, supervisor.id, outsider.id].sort())
    // each row carries the role it was found by
    for (const user of holders.body.data) expect(user.roles).toContain(role.name)
    // the count Admin → Roles shows is the number the filter lists
    expect((await admin.get('/api/admin/roles')).body.data.find((r: any) => r.id === role.id).userCount).toBe(holders.body.total)
    // with the other filters: and'ed
    expect(ids(await admin.get(`/api/admin/users?roleId=${role.id}&role=worker`))).toEqual([workers[0]!.id, outsider.id].sort())
    expect(ids(await admin.get(`/api/admin/users?roleId=${role.id}&supervisorId=${supervisor.id}`))).toEqual([workers[0]!.id])
    expect((await admin.get(`/api/admin/users?roleId=${role.id}&limit=1`)).body).toMatchObject({ total: 3, data: [expect.anything()] })
    // a role nobody holds: an empty list, not an error
    const unheld = await createRole([])
    expect((await admin.get(`/api/admin/users?roleId=${unheld.id}`)).body).toMatchObject({ total: 0, data: [] })

    // a built-in role's id (as GET /api/admin/roles lists it) is the same as role=
    const bySupervisorId = await admin.get(`/api/admin/users?roleId=${BUILT_IN.supervisor.id}&limit=100`)
    const byRole = await admin.get('/api/admin/users?role=supervisor&limit=100')
    expect(bySupervisorId.status).toBe(200)
    expect(bySupervisorId.body.total).toBe(byRole.body.total)
    expect(ids(bySupervisorId)).toEqual(ids(byRole))
    expect(ids(bySupervisorId)).toContain(supervisor.id)
    expect((await admin.get(`/api/admin/users?roleId=${BUILT_IN.supervisor.id}&role=worker`)).body).toMatchObject({ total: 0, data: [] })
  })

  it('scope is unchanged: a supervisor sees only their team\'s holders', async () => {
    const role = await createRole(['audit.read'])
    const { supervisor, workers } = await makeTeam(admin, 2)
    const elsewhere = await makeTeam(admin, 1)
    for (const id of [workers[0]!.id, elsewhere.workers[0]!.id, elsewhere.supervisor.id]) expect((await assign(id, [role.id])).status).toBe(200)
    const seen = await supervisor.client.get(`/api/admin/users?roleId=${role.id}`)
    expect(seen.status).toBe(200)
    expect(seen.body).toMatchObject({ total: 1, data: [{ id: workers[0]!.id }] })
    // the admin sees all three
    expect((await admin.get(`/api/admin/users?roleId=${role.id}`)).body.total).toBe(3)
    // a worker may not list users at all, with or without the filter
    expect((await workers[1]!.client.get(`/api/admin/users?roleId=${role.id}`)).status).toBe(403)
  })

  it('an unknown or malformed roleId → 400 naming roleId (also for a supervisor)', async () => {
    const { supervisor } = await makeTeam(admin, 0)
    for (const client of [admin, supervisor.client]) {
      const unknown = await client.get(`/api/admin/users?roleId=${MISSING}`)
      expect(unknown.status).toBe(400)
      expect(unknown.body.message).toMatch(/^roleId: /)
      expect(unknown.body.data.fields.roleId).toBeTruthy()
      for (const bad of ['nope', '123', `${MISSING}x`, '']) {
        const res = await client.get(`/api/admin/users?roleId=${encodeURIComponent(bad)}`)
        expect(res.status, bad).toBe(400)
        expect(res.body.data.fields.roleId, bad).toBeTruthy()
      }
      const twice = await client.get(`/api/admin/users?roleId=${MISSING}&roleId=${MISSING}`)
      expect(twice.status).toBe(400)
      expect(twice.body.data.fields.roleId).toBeTruthy()
    }
  })
})

describe('GET /api/admin/users/:id', () => {
  it('the user with extra roles and conversationCount, within scope', async () => {
    const { supervisor, workers } = await makeTeam(admin, 1)
    const worker = workers[0]!
    const outsider = await makeUser(admin, 'worker')
    await insertConversation(worker.id)
    await insertConversation(worker.id)
    const role = await createRole(['audit.read'])
    await assign(worker.id, [role.id])
    const res = await admin.get(`/api/admin/users/${worker.id}`)
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id: worker.id, email: worker.email, role: 'worker', roles: [role.name], conversationCount: 2, supervisorId: supervisor.id })
    expect(res.text).not.toMatch(/password_?hash|totp_?secret/i)
    expect((await supervisor.client.get(`/api/admin/users/${worker.id}`)).status).toBe(200)
    expect((await supervisor.client.get(`/api/admin/users/${outsider.id}`)).status).toBe(404)
    expect((await outsider.client.get(`/api/admin/users/${worker.id}`)).status).toBe(403)
    expect((await admin.get(`/api/admin/users/${MISSING}`)).status).toBe(404)
  })
})

describe('DELETE /api/admin/users/:id', () => {
  async function signedInClient(user: TestUser) {
    const client = new Client()
    await client.login(user.email, user.password)
    return client
  }

  it('?transferTo moves conversations and reports; sessions and tokens end; messages to others stay, from nobody; audited', async () => {
    const leaving = await makeUser(admin, 'worker')
    const heir = await makeUser(admin, 'worker')
    const friend = await makeUser(admin, 'worker')
    const conv = await insertConversation(leaving.id, { messages: [{ role: 'user', content: 'hola' }] })
    const reportId = uuidv7()
    await sqlRun('insert into reports (id, reporter_id, title, content, status, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?)', [reportId, leaving.id, 'Falla', 'detalle', 'open', new Date(), new Date()])
    const dmId = uuidv7()
    await sqlRun('insert into dms (id, sender_id, recipient_id, thread_id, content, created_at) values (?, ?, ?, ?, ?, ?)', [dmId, leaving.id, friend.id, dmId, 'un saludo', new Date()])
    const token = (await leaving.client.post('/api/auth/tokens', { password: leaving.password, name: 'script' })).body.token
    const bearer = new Client()
    bearer.bearer = token

    const res = await admin.delete(`/api/admin/users/${leaving.id}?transferTo=${heir.id}`)
    expect(res.status, res.text).toBe(204)
    expect(await conversationOwner(conv)).toBe(heir.id)
    expect((await sqlRun<{ reporter_id: string }>('select reporter_id from reports where id = ?', [reportId]))[0]?.reporter_id).toBe(heir.id)
    const [dm] = await sqlRun<{ sender_id: string | null, recipient_id: string, content: string }>('select sender_id, recipient_id, content from dms where id = ?', [dmId])
    expect(dm).toMatchObject({ sender_id: null, recipient_id: friend.id, content: 'un saludo' })
    expect((await leaving.client.get('/api/auth/me')).status).toBe(401)
    expect((await bearer.get('/api/auth/me')).status).toBe(401)
    expect(await sqlRun('select id from users where id = ?', [leaving.id])).toHaveLength(0)
    expect(await sqlRun('select id from api_tokens where user_id = ?', [leaving.id])).toHaveLength(0)
    expect((await admin.get(`/api/admin/users/${leaving.id}`)).status).toBe(404)
    expect((await new Client().post('/api/auth/login', { email: leaving.email, password: leaving.password })).status).toBe(401)
    expect(await auditCount('admin.user_deleted', leaving.id)).toBe(1)
  })

  it('without transferTo the conversations and reports go with the user', async () => {
    const leaving = await makeUser(admin, 'worker')
    const conv = await insertConversation(leaving.id, { messages: [{ role: 'user', content: 'hola' }] })
    expect((await admin.delete(`/api/admin/users/${leaving.id}`)).status).toBe(204)
    expect(await conversationOwner(conv)).toBeUndefined()
    expect(await sqlRun('select id from messages where conversation_id = ?', [conv])).toHaveLength(0)
  })

  it('a supervisor\'s workers lose their supervisor (and keep their accounts)', async () => {
    const { supervisor, workers } = await makeTeam(admin, 1)
    expect((await admin.delete(`/api/admin/users/${supervisor.id}`)).status).toBe(204)
    expect((await admin.get(`/api/admin/users/${workers[0]!.id}`)).body.supervisorId).toBeNull()
  })

  it('transferTo inactive, missing, malformed or the user themself → 400 naming transferTo; nothing is deleted', async () => {
    const leaving = await makeUser(admin, 'worker')
    const inactive = await makeUser(admin, 'worker')
    await admin.patch(`/api/admin/users/${inactive.id}`, { active: false })
    for (const transferTo of [inactive.id, MISSING, 'abc', leaving.id]) {
      const res = await admin.delete(`/api/admin/users/${leaving.id}?transferTo=${transferTo}`)
      expect(res.status, transferTo).toBe(400)
      expect(res.body.message).toMatch(/transferTo/)
    }
    expect((await admin.get(`/api/admin/users/${leaving.id}`)).status).toBe(200)
  })

  it('yourself → 403; without users.manage → 403; unknown → 404', async () => {
    const me = (await admin.get('/api/auth/me')).body
    expect((await admin.delete(`/api/admin/users/${me.id}`)).status).toBe(403)
    const { supervisor, workers } = await makeTeam(admin, 1)
    expect((await supervisor.client.delete(`/api/admin/users/${workers[0]!.id}`)).status).toBe(403)
    expect((await admin.delete(`/api/admin/users/${MISSING}`)).status).toBe(404)
    expect((await signedInClient(workers[0]!).then(c => c.get('/api/auth/me'))).status).toBe(200)
  })

  it('the last active admin cannot be deleted (409), even by a user who is not an admin but holds every permission', async () => {
    const server = await ownServer()
    try {
      const a = new Client(server.url)
      await a.login(DEMO.admin.email, DEMO.admin.password)
      const adminId = (await a.get('/api/auth/me')).body.id
      const email = uniqueEmail('manager')
      const created = await a.post('/api/admin/users', { email, fullName: 'Gestor', role: 'worker', password: 'correct-horse-battery-9', mustChangePassword: false })
      // every permission: a users.manage holder with less may not touch an admin's account at all (403, below)
      const role = await a.post('/api/admin/roles', { name: 'Gestor de usuarios', permissions: [...PERMISSIONS] })
      expect((await a.put(`/api/admin/users/${created.body.user.id}/roles`, { roleIds: [role.body.id] })).status).toBe(200)
      const manager = new Client(server.url)
      await manager.login(email, 'correct-horse-battery-9')
      const res = await manager.delete(`/api/admin/users/${adminId}`)
      expect(res.status, res.text).toBe(409)
      expect(res.body.message).toMatch(/last active admin/)
      expect((await a.get('/api/auth/me')).status).toBe(200)
    }
    finally { await server.stop() }
  }, 90_000)
})

describe('POST /api/admin/users/:id/phone', () => {
  const phone = () => `+569${String(Date.now() % 1e8).padStart(8, '0')}`

  it('one number set on several accounts at once: one 200, the others 409; one account holds it', async () => {
    const people = await Promise.all([0, 1, 2, 3].map(() => makeUser(admin, 'worker')))
    const number = phone()
    const statuses = (await Promise.all(people.map(p => admin.post(`/api/admin/users/${p.id}/phone`, { phone: number })))).map(r => r.status)
    expect(statuses.sort()).toEqual([200, 409, 409, 409])
    const holders = (await Promise.all(people.map(p => admin.get(`/api/admin/users/${p.id}`)))).filter(r => r.body.phone === number)
    expect(holders).toHaveLength(1)
  })

  it('sets a verified number (200 user); the same number on another account → 409; audited', async () => {
    const [one, two] = [await makeUser(admin, 'worker'), await makeUser(admin, 'worker')]
    const number = phone()
    const res = await admin.post(`/api/admin/users/${one.id}/phone`, { phone: number })
    expect(res.status).toBe(200)
    expect(res.body).toMatchObject({ id: one.id, phone: number, phoneVerified: true })
    expect((await one.client.get('/api/auth/me')).body).toMatchObject({ phone: number, phoneVerified: true })
    const taken = await admin.post(`/api/admin/users/${two.id}/phone`, { phone: number })
    expect(taken.status).toBe(409)
    expect(taken.body.message).toMatch(/^phone/)
    expect(await auditCount('admin.user_phone_set', one.id)).toBe(1)
  })

  it('malformed numbers → 400 naming phone; without users.manage → 403', async () => {
    const worker = await makeUser(admin, 'worker')
    for (const bad of ['56912345678', '+0123456789', '+56 9', 'abc', '+5691234567890123', 56912345678]) {
      const res = await admin.post(`/api/admin/users/${worker.id}/phone`, { phone: bad })
      expect(res.status, String(bad)).toBe(400)
      expect(res.body.message).toMatch(/^phone/)
    }
    expect((await worker.client.post(`/api/admin/users/${worker.id}/phone`, { phone: phone() })).status).toBe(403)
  })
})
