import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type RunningServer, startServer } from '../support/server'
import { inboundForm, SMS_WEBHOOK, type SmsRig, startSmsRig, twilioSignature } from '../support/sms'

// Edges of API.md "SMS channel (Twilio)" found by probing the built server with signed posts: bad input is a 400
// naming its field (docs/api.md "Errors": also in data.fields), never a 500.

let rig: SmsRig
let server: RunningServer

beforeAll(async () => {
  rig = await startSmsRig('+5697')
  server = await startServer(rig.env)
}, 120_000)

afterAll(async () => {
  await server?.stop()
  await rig?.close()
})

/** Posts `form` signed as Twilio signs it (every field as given, MessageSid included). */
async function signedPost(form: Record<string, string>, path = SMS_WEBHOOK) {
  const res = await fetch(server.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(server.url, path, form) },
    body: new URLSearchParams(form).toString(),
  })
  const text = await res.text()
  let body: any = null
  try { body = JSON.parse(text) }
  catch {}
  return { status: res.status, text, body }
}

const jobCount = async () => Number((await rig.sql<{ n: number }>('select count(*) as n from jobs'))[0]!.n)

describe('webhook input', () => {
  it('a signed From or MessageSid of thousands of characters → 400 naming it, nothing stored (PostgreSQL\'s index refused it with a 500)', async () => {
    const long = `+${randomBytes(2000).toString('hex')}`
    const before = await jobCount()
    for (const [field, form] of [
      ['From', inboundForm({ From: long, Body: 'hola' })],
      ['MessageSid', inboundForm({ From: rig.newPhone(), Body: 'hola', MessageSid: `SM${randomBytes(2000).toString('hex')}` })],
    ] as const) {
      for (const path of [SMS_WEBHOOK, '/twilio_webhook']) {
        const res = await signedPost(form, path)
        expect(res.status, `${path} ${res.text.slice(0, 200)}`).toBe(400)
        expect(res.body.message).toContain(field)
        expect(typeof res.body.data.fields[field]).toBe('string')
      }
    }
    expect(await jobCount()).toBe(before)
  })

  it('the webhook\'s 400 and 413 name their field in data.fields, like every error about a field', async () => {
    const noFrom = inboundForm({ From: '', Body: 'hola' })
    delete noFrom.From
    const missing = await signedPost(noFrom)
    expect(missing.status).toBe(400)
    expect(missing.body.data.fields).toEqual({ From: 'is required' })
    const nul = await signedPost(inboundForm({ From: rig.newPhone(), Body: 'hola\u0000' }))
    expect(nul.status).toBe(400)
    expect(typeof nul.body.data.fields.Body).toBe('string')
    const big = await fetch(server.url + SMS_WEBHOOK, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `Body=${'a'.repeat(40_000)}` })
    expect(big.status).toBe(413)
    expect(typeof (await big.json()).data.fields.body).toBe('string')
  })
})
