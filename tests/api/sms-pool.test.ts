import postgres from 'postgres'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { type RunningServer, startServer } from '../support/server'
import { inboundForm, SMS_WEBHOOK, type SmsRig, startSmsRig, twilioSignature } from '../support/sms'

/**
 * PostgreSQL: the job worker has its own connections (JOB_DATABASE_POOL_SIZE), so the SMS webhook never waits
 * behind the jobs' statements. Here every worker connection is stuck on a lock the test holds (the jobs read
 * `conversations`, which the test has locked); a webhook must still store its message and answer at once. With one
 * shared pool the webhook's statement queued behind a stuck one until the lock was released. (SQLite has one file
 * and no pool: nothing to show there.)
 */

const WORKER_CONNECTIONS = 2
const WEBHOOK_DEADLINE_MS = 3_000

let rig: SmsRig
let server: RunningServer

describe.runIf(inject('dbKind') === 'pg')('SMS webhook on PostgreSQL: the job worker cannot take the requests\' connections', () => {
  beforeAll(async () => {
    rig = await startSmsRig('+5697', {
      JOB_CONCURRENCY: '4', JOB_DATABASE_POOL_SIZE: String(WORKER_CONNECTIONS), DATABASE_POOL_SIZE: '2', LOG_LEVEL: 'warn',
    })
    server = await startServer(rig.env)
  }, 120_000)

  afterAll(async () => {
    await server?.stop()
    await rig?.close()
  })

  /** A signed inbound text; fails if the webhook has not answered within the deadline. */
  async function inbound(phone: string) {
    const form = inboundForm({ From: phone, Body: `hola desde ${phone}` })
    const res = await fetch(server.url + SMS_WEBHOOK, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(server.url, SMS_WEBHOOK, form) },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(WEBHOOK_DEADLINE_MS),
    })
    return { status: res.status, sid: form.MessageSid! }
  }

  async function eventually<T>(check: () => Promise<T | false>, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const value = await check()
      if (value !== false) return value
      if (Date.now() > deadline) throw new Error('condition not met in time')
      await new Promise(resolve => setTimeout(resolve, 50))
    }
  }

  it('every worker connection stuck on a lock → a webhook still stores its message and answers 200 within 3 s; once the lock goes, each text is answered once', async () => {
    const phones: string[] = []
    for (let i = 0; i < 5; i++) phones.push((await rig.smsUser(server.url)).phone)
    const holder = postgres(rig.db.url, { max: 1, onnotice: () => {} })
    const watcher = postgres(rig.db.url, { max: 1, onnotice: () => {} })
    const lock = await holder.reserve()
    try {
      await lock`begin`
      await lock`lock table conversations in access exclusive mode`
      // four texts: their jobs block on the lock, on the worker's connections
      for (const phone of phones.slice(0, 4)) expect((await inbound(phone)).status).toBe(200)
      const lockedBackends = async () => Number((await watcher`select count(*)::int as n from pg_stat_activity
        where datname = current_database() and wait_event_type = 'Lock'`)[0]!.n)
      await eventually(async () => (await lockedBackends()) >= WORKER_CONNECTIONS || false, 15_000)

      const started = Date.now()
      const last = await inbound(phones[4]!)
      expect(last.status).toBe(200)
      expect(Date.now() - started).toBeLessThan(WEBHOOK_DEADLINE_MS)
      // stored before the 200, while the worker is still stuck
      const [job] = await watcher`select status from jobs where dedupe_key = ${`sms-in:${last.sid}`}`
      expect(job?.status).toBe('pending')
      expect(await lockedBackends()).toBeGreaterThanOrEqual(WORKER_CONNECTIONS)
    }
    finally {
      await lock`rollback`.catch(() => {})
      lock.release()
      await holder.end({ timeout: 5 })
    }
    try {
      for (const phone of phones) await rig.twilio.waitFor(() => rig.twilio.acceptedTo(phone).length > 0, 30_000)
      await new Promise(resolve => setTimeout(resolve, 500))
      expect(phones.map(phone => rig.twilio.acceptedTo(phone).length)).toEqual([1, 1, 1, 1, 1])
      expect(rig.model.chatRequests).toHaveLength(5)
    }
    finally {
      await watcher.end({ timeout: 5 })
    }
  }, 90_000)
})
