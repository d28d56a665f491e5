import { describe, expect, it } from 'vitest'
import { signUp } from '../support/auth'

// Issue #15 item 11: one worker created 3,000 conversations in 7.5 s. Default CONVERSATION_RATE_LIMIT = 60/1m.
describe('conversation creation rate per user', () => {
  it('the 61st new conversation in a minute → 429 with Retry-After; another user is not affected', async () => {
    const { client } = await signUp()
    const statuses = []
    for (let i = 0; i < 60; i++) statuses.push((await client.post('/api/conversations', { title: `c${i}` })).status)
    expect(statuses.every(s => s === 201), JSON.stringify(statuses)).toBe(true)
    const over = await client.post('/api/conversations', { title: 'one too many' })
    expect(over.status).toBe(429)
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(over.body.message).toMatch(/conversations/)
    expect((await client.get('/api/conversations?limit=100')).body.total).toBe(60)
    const other = await signUp()
    expect((await other.client.post('/api/conversations', {})).status).toBe(201)
  })
})
