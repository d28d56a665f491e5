import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { FakeOllama } from '../support/fake-ollama'
import type { FakeTwilio } from '../support/fake-twilio'
import { type RunningServer, startServer } from '../support/server'
import { inboundForm, SMS_WEBHOOK, type SmsRig, startSmsRig, twilioSignature } from '../support/sms'

/**
 * The split topology on one database — SQLite file included: the webhook's process with JOBS_WORKER=false only
 * enqueues, a second process on the same database runs the jobs. Both write the same file at once (webhooks
 * enqueue while the worker claims, saves turns and sends), so SQLite's write lock is contended across processes:
 * the busy timeout must be honoured (bench/README "SQLite, split" saw claims failing at once for ~100 s).
 */

const USERS = 16

let rig: SmsRig
let model: FakeOllama
let twilio: FakeTwilio
let web: RunningServer
let worker: RunningServer | undefined

beforeAll(async () => {
  rig = await startSmsRig('+5698', { LOG_LEVEL: 'warn' })
  ;({ model, twilio } = rig)
  web = await startServer({ ...rig.env, JOBS_WORKER: 'false' })
}, 120_000)

afterAll(async () => {
  await worker?.stop()
  await web?.stop()
  await rig?.close()
})

const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) => rig.sql<T>(text, params)
const smsUser = async () => (await rig.smsUser(web.url)).phone

/** A text from `phone`, signed as Twilio signs it, posted to the webhook's process. */
async function inbound(phone: string, body: string) {
  const form = inboundForm({ From: phone, Body: body })
  const res = await fetch(web.url + SMS_WEBHOOK, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(web.url, SMS_WEBHOOK, form) },
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

    worker = await startServer({ ...rig.env, ALLOW_SHARED_DATABASE: '1' })
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
