import { describe, expect, it } from 'vitest'
import { auditCount, demoAdmin, insertConversation, makeTeam } from '../api/admin-support'

// Issue #15 item 2: `?userId=…&q=…` let a supervisor test guesses against a worker's message text, unaudited.
// Chosen: anyone but the owner searches titles only (docs/api.md, README "Security").
describe('searching someone else\'s conversations matches titles only', () => {
  it('supervisor and admin: a word only in a message finds nothing; a word in the title does; the owner finds both', async () => {
    const admin = await demoAdmin()
    const { supervisor, workers: [worker] } = await makeTeam(admin)
    const id = await insertConversation(worker!.id, { title: 'Plan de turnos', messages: [{ role: 'user', content: 'mi pin es 4711' }, { role: 'assistant', content: 'Anotado.' }] })
    for (const viewer of [supervisor.client, admin]) {
      const secret = await viewer.get(`/api/conversations?userId=${worker!.id}&q=4711`)
      expect(secret.status).toBe(200)
      expect(secret.body.total).toBe(0)
      const title = await viewer.get(`/api/conversations?userId=${worker!.id}&q=turnos`)
      expect(title.body.data.map((c: { id: string }) => c.id)).toEqual([id])
    }
    expect((await worker!.client.get('/api/conversations?q=4711')).body.data.map((c: { id: string }) => c.id)).toEqual([id])
    expect((await worker!.client.get(`/api/conversations?userId=${worker!.id}&q=4711`)).body.total).toBe(1)
    // nothing was read, so nothing to audit
    expect(await auditCount('conversation.read', id)).toBe(0)
  })
})
