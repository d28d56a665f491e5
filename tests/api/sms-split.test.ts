import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { FakeOllama } from '../support/fake-ollama'
import { FakeTwilio, messageSid, signTwilio } from '../support/fake-twilio'
import { newWorker } from '../support/http'
import { createTestDatabase, type RunningServer, startServer, type TestDatabase } from '../support/server'
import { dbQuery, dbTime } from '../support/db'

/**
 * The split topology on one database — SQLite file included: the webhook's process with JOBS_WORKER=false only
 * enqueues, a second process on the same database runs the jobs. Both write the same file at once (webhooks
 * enqueue while the worker claims, saves turns and sends), so SQLite's write lock is contended across processes:
 * the busy timeout must be honoured (bench/README "SQLite, split" saw claims failing at once for ~100 s).
 */

const TWILIO = {
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  TWILIO_AUTH_TOKEN: 'test-auth-token-0123456789abcdef',
  TWILIO_PHONE_NUMBER: '+15005550006',
}
const USERS = 16

let model: FakeOllama
let twilio: FakeTwilio
let db: TestDatabase
let web: RunningServer
let worker: RunningServer | undefined
let env: Record<string, string>

beforeAll(async () => {
  model = await new FakeOllama().start()
  twilio = await new FakeTwilio().start()
  db = await createTestDatabase(inject('dbKind'))
  env = {
    DATABASE_URL: db.url, OLLAMA_HOST: model.url, TWILIO_API_BASE: twilio.url, ...TWILIO,
    JOB_BACKOFF_MS: '100', JOB_POLL_MS: '50', LOG_LEVEL: 'warn',
  }
  web = await startServer({ ...env, JOBS_WORKER: 'false' })
}, 120_000)

afterAll(async () => {
  await worker?.stop()
  await web?.stop()
  await model?.close()
  await twilio?.close()
  await db?.drop()
})

const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) => dbQuery<T>(text, params, db.url)
let phoneCounter = 0
const newPhone = () => `+5698${String(process.pid % 1000).padStart(3, '0')}${String(++phoneCounter).padStart(4, '0')}`

async function smsUser() {
  const { user } = await newWorker(web.url)
  const phone = newPhone()
  await sql('update users set phone = ?, phone_verified_at = ? where id = ?', [phone, dbTime(new Date(), db.url), user.id])
  return phone
}

/** A text from `phone`, signed as Twilio signs it, posted to the webhook's process. */
async function inbound(phone: string, body: string) {
  const path = '/api/channels/twilio/sms'
  const form = { AccountSid: TWILIO.TWILIO_ACCOUNT_SID, To: TWILIO.TWILIO_PHONE_NUMBER, From: phone, MessageSid: messageSid(), Body: body, NumMedia: '0' }
  const res = await fetch(web.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilio(TWILIO.TWILIO_AUTH_TOKEN, web.url + path, form) },
    body: new URLSearchParams(form).toString(),
  })
  return res.status
}

const jobsBy = async (status: string) => Number((await sql<{ n: number | string }>('select count(*) as n from jobs where status = ?', [status]))[0]!.n)

describe('split: webhook process with JOBS_WORKER=false + a worker process on the same database', () => {
  it('the webhook process only enqueues; the worker answers every text exactly once, with no SQLITE_BUSY on either side', async () => {
    const first = await smsUser()
    expect(await inbound(first, 'Hola, ¿hay alguien?')).toBe(200)
    // no worker yet: the job waits in the table and the model is not asked
    await expect.poll(() => jobsBy('pending')).toBe(1)
    expect(model.chatRequests).toHaveLength(0)

    worker = await startServer({ ...env, ALLOW_SHARED_DATABASE: '1' })
    await twilio.waitFor(() => twilio.acceptedTo(first).length === 1, 20_000)

    // a burst: the web process writes (enqueues) while the worker claims, saves turns and sends
    const phones = await Promise.all(Array.from({ length: USERS }, () => smsUser()))
    const statuses = await Promise.all(phones.map((phone, i) => inbound(phone, `Mensaje ${i}`)))
    expect(statuses).toEqual(phones.map(() => 200))
    await twilio.waitFor(() => phones.every(phone => twilio.acceptedTo(phone).length >= 1), 60_000)

    for (const phone of [first, ...phones]) expect(twilio.acceptedTo(phone)).toHaveLength(1)
    expect(model.chatRequests).toHaveLength(USERS + 1)
    // one job per text: the inbound job sends its reply itself (an sms.send job only when a send fails)
    await expect.poll(() => jobsBy('done')).toBe(USERS + 1)
    expect(Number((await sql<{ n: number | string }>("select count(*) as n from jobs where kind = 'sms.send'"))[0]!.n)).toBe(0)
    expect(await jobsBy('failed')).toBe(0)
    const logs = web.output() + worker.output()
    expect(logs).not.toMatch(/SQLITE_BUSY|database is locked/)
    expect(logs).not.toMatch(/job failed|job_failed/i)
  }, 120_000)
})
