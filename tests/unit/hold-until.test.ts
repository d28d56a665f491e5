import { describe, expect, it } from 'vitest'
import { holdUntil } from '../../server/services/orchestrator/hold'

/** A source of `count` parts that counts how many were asked for. */
function source(count: number, failAt?: number) {
  const seen = { reads: 0 }
  const iterable: AsyncIterable<number> = {
    [Symbol.asyncIterator]: () => ({
      next: async () => {
        const i = seen.reads++
        if (i === failAt) throw new Error('the model server closed the stream')
        return i < count ? { done: false, value: i } : { done: true, value: undefined }
      },
    }),
  }
  return { iterable, seen }
}

function deferred() {
  let open!: () => void
  let fail!: (error: Error) => void
  const promise = new Promise<void>((resolve, reject) => { open = resolve; fail = reject })
  return { promise, open, fail }
}

/** Lets the read-ahead run until it stops by itself (each read is a few microtasks). */
const settle = () => new Promise(resolve => setImmediate(resolve))

async function all<T>(parts: AsyncIterable<T>) {
  const out: T[] = []
  for await (const part of parts) out.push(part)
  return out
}

describe('holdUntil (the model\'s answer read ahead while the question commits)', () => {
  it('reads at most `ahead` parts while the gate is closed, then gives every part in order', async () => {
    const model = source(1000)
    const gate = deferred()
    const parts = all(holdUntil(model.iterable, gate.promise, 8))
    await settle()
    // an unbounded read-ahead took the whole answer into memory here, so the model server never felt a slow reader
    expect(model.seen.reads).toBe(8)
    gate.open()
    expect(await parts).toEqual(Array.from({ length: 1000 }, (_, i) => i))
  })

  it('a long answer is not read past the bound however long the commit waits', async () => {
    const model = source(100_000)
    const gate = deferred()
    const iterator = holdUntil(model.iterable, gate.promise, 64)[Symbol.asyncIterator]()
    const first = iterator.next()
    for (let i = 0; i < 5; i++) await settle()
    expect(model.seen.reads).toBe(64)
    gate.open()
    expect(await first).toEqual({ done: false, value: 0 })
    await iterator.return(undefined)
  })

  it('an answer shorter than the bound is read to its end before the gate opens', async () => {
    const model = source(3)
    const gate = deferred()
    const parts = all(holdUntil(model.iterable, gate.promise, 8))
    await settle()
    expect(model.seen.reads).toBe(4) // three parts and the end
    gate.open()
    expect(await parts).toEqual([0, 1, 2])
  })

  it('a failed commit is what the reader gets, not the parts', async () => {
    const gate = deferred()
    const parts = all(holdUntil(source(10).iterable, gate.promise, 8))
    gate.fail(new Error('SQLITE_BUSY'))
    await expect(parts).rejects.toThrow('SQLITE_BUSY')
  })

  it('a model failing during the commit gives the parts read before it, then its error', async () => {
    const gate = deferred()
    const got: number[] = []
    const reading = (async () => { for await (const part of holdUntil(source(10, 3).iterable, gate.promise, 8)) got.push(part) })()
    await settle()
    gate.open()
    await expect(reading).rejects.toThrow('closed the stream')
    expect(got).toEqual([0, 1, 2])
  })
})
