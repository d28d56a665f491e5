import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { asBackgroundWork, sqliteClient } from '../../server/db/client'

/**
 * libSQL runs a statement synchronously and resolves it as a microtask: without a yield, background work (the job
 * worker) runs a whole series of statements before any request's I/O callback gets the event loop.
 */

const dir = mkdtempSync(join(tmpdir(), 'energyapp-yield-'))
const client = sqliteClient(`file:${join(dir, 'y.db')}`)
afterAll(() => {
  client.close()
  rmSync(dir, { recursive: true, force: true })
})

/** Runs three statements, with a callback queued like an arriving request's; returns the order things ran in. */
async function race(run: (work: () => Promise<void>) => Promise<void>) {
  const order: string[] = []
  await run(async () => {
    setImmediate(() => order.push('request'))
    for (let i = 0; i < 3; i++) {
      await client.execute('select 1')
      order.push(`statement ${i}`)
    }
  })
  await nextTurn()
  return order
}

const nextTurn = () => new Promise(resolve => setImmediate(resolve))

describe('SQLite statements of background work yield to waiting callbacks', () => {
  it('inside asBackgroundWork a queued callback runs before the first statement', async () => {
    expect(await race(work => asBackgroundWork(work))).toEqual(['request', 'statement 0', 'statement 1', 'statement 2'])
  })

  it('outside it (a request\'s own statements) they run straight on, batches included', async () => {
    expect(await race(work => work())).toEqual(['statement 0', 'statement 1', 'statement 2', 'request'])
    const order: string[] = []
    setImmediate(() => order.push('request'))
    await client.batch(['select 1'])
    order.push('batch')
    await nextTurn()
    expect(order).toEqual(['batch', 'request'])
  })

  it('a batch inside asBackgroundWork yields too', async () => {
    const order: string[] = []
    await asBackgroundWork(async () => {
      setImmediate(() => order.push('request'))
      await client.batch(['select 1'])
      order.push('batch')
    })
    expect(order).toEqual(['request', 'batch'])
  })
})
