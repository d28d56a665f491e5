import { describe, expect, it } from 'vitest'
import { demoAdmin, makeUser } from '../api/admin-support'
import { expectFieldError } from '../support/auth'
import { GOOD_PASSWORD, uniqueEmail } from '../support/http'

// Issue #15 item 12: supervisorId could name a deactivated supervisor.
describe('a deactivated supervisor cannot be assigned workers', () => {
  it('create or move a worker under a deactivated supervisor → 400 naming supervisorId; active again → 200', async () => {
    const admin = await demoAdmin()
    const supervisor = await makeUser(admin, 'supervisor')
    const worker = await makeUser(admin, 'worker')
    expect((await admin.patch(`/api/admin/users/${supervisor.id}`, { active: false })).status).toBe(200)
    expectFieldError(await admin.post('/api/admin/users', { email: uniqueEmail('w'), fullName: 'W', role: 'worker', password: GOOD_PASSWORD, supervisorId: supervisor.id }), 'supervisorId')
    expectFieldError(await admin.patch(`/api/admin/users/${worker.id}`, { supervisorId: supervisor.id }), 'supervisorId')
    expect((await admin.patch(`/api/admin/users/${supervisor.id}`, { active: true })).status).toBe(200)
    expect((await admin.patch(`/api/admin/users/${worker.id}`, { supervisorId: supervisor.id })).body.user.supervisorId).toBe(supervisor.id)
  })
})
