import { describe, expect, it } from 'vitest'
import { GenerationQueue, type Release } from '../../server/services/generation-queue'

const tick = () => new Promise(resolve => setImmediate(resolve))

/** Acquires for `userId` and records the order in which slots are granted. */
function track(queue: GenerationQueue, served: string[]) {
  return (userId: string, label = userId, options = {}) => queue.acquire(userId, options).then((release) => { served.push(label); return release })
}

describe('generation queue', () => {
  it('grants at once while slots are free and never runs more than the limit', async () => {
    const queue = new GenerationQueue(2)
    const served: string[] = []
    const take = track(queue, served)
    const a = take('a'); const b = take('b'); take('c')
    await tick()
    expect(served).toEqual(['a', 'b'])
    expect(queue.running).toBe(2)
    expect(queue.waiting).toBe(1)
    ;(await a)()
    await tick()
    expect(served).toEqual(['a', 'b', 'c'])
    expect(queue.running).toBe(2)
    ;(await b)()
    expect(queue.running).toBe(1)
  })

  it('serves users round-robin, not first-come: a user with many requests cannot starve another', async () => {
    const queue = new GenerationQueue(1)
    const served: string[] = []
    const take = track(queue, served)
    const grants = new Map<string, Promise<Release>>()
    grants.set('x0', take('x', 'x0'))
    for (const [user, label] of [['a', 'a1'], ['a', 'a2'], ['a', 'a3'], ['b', 'b1'], ['c', 'c1']] as const)
      grants.set(label, take(user, label))
    // let each granted request finish in turn
    for (let i = 0; i < grants.size; i++) {
      await tick()
      ;(await grants.get(served[i]!)!)()
    }
    expect(served).toEqual(['x0', 'a1', 'b1', 'c1', 'a2', 'a3'])
    expect(queue.running).toBe(0)
  })

  it('reports positions while waiting and updates them as the line moves', async () => {
    const queue = new GenerationQueue(1)
    const positions: Record<string, number[]> = { a: [], b: [] }
    const running = await queue.acquire('x')
    const a = queue.acquire('a', { onPosition: p => positions.a!.push(p) })
    const b = queue.acquire('b', { onPosition: p => positions.b!.push(p) })
    expect(positions).toEqual({ a: [1], b: [2] })
    running()
    ;(await a)()
    ;(await b)()
    expect(positions).toEqual({ a: [1], b: [2, 1] })
  })

  it('an aborted waiter leaves the line, rejects, and moves the others up', async () => {
    const queue = new GenerationQueue(1)
    const running = await queue.acquire('x')
    const controller = new AbortController()
    const bPositions: number[] = []
    const a = queue.acquire('a', { signal: controller.signal })
    const b = queue.acquire('b', { onPosition: p => bPositions.push(p) })
    controller.abort(new Error('client left'))
    await expect(a).rejects.toThrow('client left')
    expect(bPositions).toEqual([2, 1])
    expect(queue.waiting).toBe(1)
    running()
    ;(await b)()
    expect(queue.running).toBe(0)
  })

  it('releasing twice frees only one slot', async () => {
    const queue = new GenerationQueue(1)
    const release = await queue.acquire('a')
    const b = queue.acquire('b')
    release()
    release()
    const releaseB = await b
    expect(queue.running).toBe(1)
    releaseB()
    expect(queue.running).toBe(0)
  })

  it('raising the limit lets waiters in at once', async () => {
    const queue = new GenerationQueue(1)
    const served: string[] = []
    const take = track(queue, served)
    await take('a'); take('b'); take('c')
    await tick()
    expect(served).toEqual(['a'])
    queue.limit = 3
    await tick()
    expect(served).toEqual(['a', 'b', 'c'])
    expect(queue.running).toBe(3)
  })
})
