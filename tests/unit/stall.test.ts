import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { stallWatch } from '../../server/services/orchestrator/stall'

describe('stallWatch (a model that stops sending is given up on)', () => {
  beforeEach(() => { vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }) })
  afterEach(() => { vi.useRealTimers() })

  it('fires once nothing has progressed for the timeout', () => {
    const onStall = vi.fn()
    stallWatch(1000, onStall)
    vi.advanceTimersByTime(999)
    expect(onStall).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(onStall).toHaveBeenCalledTimes(1)
    vi.advanceTimersByTime(5000)
    expect(onStall).toHaveBeenCalledTimes(1)
  })

  it('counts the timeout from the last progress, not from the start', () => {
    const onStall = vi.fn()
    const watch = stallWatch(1000, onStall)
    for (let i = 0; i < 10; i++) {
      vi.advanceTimersByTime(600)
      watch.progress()
    }
    // 6 s have passed, never 1 s without progress
    expect(onStall).not.toHaveBeenCalled()
    vi.advanceTimersByTime(999)
    expect(onStall).not.toHaveBeenCalled()
    vi.advanceTimersByTime(1)
    expect(onStall).toHaveBeenCalledTimes(1)
  })

  it('takes the caller\'s clock reading, and never fires after clear()', () => {
    const onStall = vi.fn()
    const watch = stallWatch(1000, onStall)
    vi.advanceTimersByTime(900)
    watch.progress(performance.now())
    vi.advanceTimersByTime(500)
    expect(onStall).not.toHaveBeenCalled()
    watch.clear()
    vi.advanceTimersByTime(10_000)
    expect(onStall).not.toHaveBeenCalled()
  })
})
