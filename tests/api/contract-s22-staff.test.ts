import { beforeAll, describe, expect, it } from 'vitest'
import { expectFieldError } from '../support/auth'
import type { Client } from '../support/http'
import { demoAdmin } from './admin-support'

// Edges of API.md "Admin", "Messages between people", "Reports", "Live events", "Assistant tools", "SMS channel" and
// "Roles and permissions" found by a third probe of the built server on both databases.

let admin: Client
beforeAll(async () => { admin = await demoAdmin() })

describe('PUT /api/admin/settings', () => {
  it('agents given as an array, null or a string → 400 naming agents (docs/api.md "Errors": an object field given as an array names it); nothing changes', async () => {
    const before = (await admin.get('/api/admin/settings')).body
    for (const agents of [[], [true], null, 'on', 1]) {
      const res = await admin.put('/api/admin/settings', { agents })
      expectFieldError(res, 'agents')
      expect(res.body.message, JSON.stringify(agents)).toBe('agents: must be a JSON object')
    }
    // a real object is still checked field by field
    expectFieldError(await admin.put('/api/admin/settings', { agents: { reports: 'yes' } }), 'agents.reports')
    expect((await admin.get('/api/admin/settings')).body).toEqual(before)
  })
})
