import { createStorage } from 'unstorage'
import memoryDriver from 'unstorage/drivers/memory'
import { describe, expect, it } from 'vitest'
import { sweepExpired } from '../../server/utils/kv'

describe('in-memory key-value sweep', () => {
  it('drops expired rate-limit windows and expiring values, keeps live ones', async () => {
    const kv = createStorage({ driver: memoryDriver() })
    const now = Date.now()
    await kv.setItem('rl:old', { count: 3, resetAt: now - 1 })
    await kv.setItem('rl:live', { count: 1, resetAt: now + 60_000 })
    await kv.setItem('2fa:old', { value: { userId: 'x' }, expiresAt: now - 5 })
    await kv.setItem('2fa:live', { value: { userId: 'y' }, expiresAt: now + 60_000 })
    await kv.setItem('other', 'plain')
    await sweepExpired(kv)
    expect((await kv.getKeys()).sort()).toEqual(['2fa:live', 'other', 'rl:live'])
  })
})
