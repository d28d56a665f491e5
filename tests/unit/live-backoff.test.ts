import { describe, expect, it } from 'vitest'
import { reconnectDelay } from '../../utils/backoff'
import { newOutboxItem, outboxKind } from '../../utils/idb-outbox'

describe('live events reconnect back-off', () => {
  it('doubles from about a second and stops growing at 30 s', () => {
    const low = (n: number) => reconnectDelay(n, () => 0)
    const high = (n: number) => reconnectDelay(n, () => 1)
    expect([0, 1, 2, 3].map(high)).toEqual([1000, 2000, 4000, 8000])
    expect(high(20)).toBe(30_000)
    expect(low(20)).toBe(15_000)
  })

  it('spreads tabs over the second half of each step (jitter)', () => {
    for (const r of [0, 0.25, 0.5, 0.99]) {
      const delay = reconnectDelay(3, () => r)
      expect(delay).toBeGreaterThanOrEqual(4000)
      expect(delay).toBeLessThanOrEqual(8000)
    }
  })
})

describe('outbox kinds', () => {
  it('reads items saved before there were kinds as chat messages, and keeps a message\'s recipient and parent', () => {
    expect(outboxKind({})).toBe('chat')
    const dm = newOutboxItem({ kind: 'dm', conversationId: null, message: 'hola', recipientId: 'u1', parentId: 'm1' })
    expect(outboxKind(dm)).toBe('dm')
    expect(dm).toMatchObject({ recipientId: 'u1', parentId: 'm1', message: 'hola' })
    const report = newOutboxItem({ kind: 'report', conversationId: null, message: 'agua', title: 'Fuga' })
    expect(outboxKind(report)).toBe('report')
  })
})
