import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import type { FakeOllama } from '../support/fake-ollama'
import { type FakeTwilio, messageSid, signTwilio } from '../support/fake-twilio'
import { Client, DEMO } from '../support/http'
import { type RunningServer, startServer } from '../support/server'
import { inboundForm, SMS_WEBHOOK, type SmsRig, startSmsRig, TWILIO, twilioSignature } from '../support/sms'

/**
 * The SMS channel end to end: a built server with TWILIO_* set, the fake Ollama as the model and the fake Twilio
 * as the REST API; every webhook call is signed exactly as Twilio signs it. Back-off and leases are shortened by
 * environment so that retries and a crash take seconds, not minutes.
 */

const NOT_REGISTERED = /no está registrado/
const UNAVAILABLE = /no está disponible/

let rig: SmsRig
let model: FakeOllama
let twilio: FakeTwilio
let server: RunningServer

beforeAll(async () => {
  rig = await startSmsRig('+5699', { JOB_LEASE_MS: '1500', SMS_MODEL_ATTEMPTS: '3' })
  ;({ model, twilio } = rig)
  server = await startServer(rig.env)
}, 120_000)

afterAll(async () => {
  await server?.stop()
  await rig?.close()
})

beforeEach(() => {
  model.reset()
  twilio.reset()
})

const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) => rig.sql<T>(text, params)
const smsUser = (options?: { verified?: boolean, active?: boolean }) => rig.smsUser(server.url, options)

/** Posts a form like Twilio does, signed for PUBLIC_ORIGIN + path (or with the given signature). */
async function webhook(params: Parameters<typeof inboundForm>[0], options: { path?: string, signature?: string | null, raw?: string } = {}) {
  const path = options.path ?? SMS_WEBHOOK
  const form = inboundForm(params)
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  const signature = options.signature === undefined ? twilioSignature(server.url, path, form) : options.signature
  if (signature !== null) headers['x-twilio-signature'] = signature
  const res = await fetch(server.url + path, { method: 'POST', headers, body: options.raw ?? new URLSearchParams(form).toString() })
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text(), sid: form.MessageSid! }
}

async function eventually<T>(check: () => Promise<T | undefined | null | false> | T | undefined | null | false, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

const smsConversations = async (client: Client) =>
  ((await client.get('/api/conversations')).body.data as Array<{ id: string, channel: string }>).filter(c => c.channel === 'sms')
const messagesOf = async (client: Client, id: string) => (await client.get(`/api/conversations/${id}/messages`)).body.data as Array<{ role: string, content: string }>
/** An answer of five Markdown sections: three SMS parts once flattened. */
const longAnswer = () => Array.from({ length: 5 }, (_, i) => `## Paso ${i + 1}\n\n${`Revise el **equipo** número ${i + 1} con cuidado. `.repeat(20).trim()}`).join('\n\n')
const jobCount = async () => Number((await sql<{ n: number | string }>('select count(*) as n from jobs'))[0]!.n)
/** Waits a moment longer to show that nothing more happens (a second send, a second model call). */
const settle = (ms = 600) => new Promise(resolve => setTimeout(resolve, ms))

describe('SMS webhook: checks before anything is stored', () => {
  it('answers 404 while TWILIO_* are not set (the shared server has no SMS channel)', async () => {
    const plain = new Client()
    for (const path of ['/api/channels/twilio/sms', '/twilio_webhook']) {
      const res = await plain.request(path, { method: 'POST', raw: 'From=%2B56911111111&Body=hola', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
      expect(res.status, path).toBe(404)
    }
  })

  it('a signed text with NUL or half a character → 400 naming the field, nothing stored (never a 500)', async () => {
    const { phone } = await smsUser()
    const before = await jobCount()
    for (const [field, params] of [
      ['Body', { From: phone, Body: 'hola\u0000mundo' }],
      ['MessageSid', { From: phone, Body: 'hola', MessageSid: 'SM\u0000x' }],
      ['Body', { From: '+56900000001', Body: 'desconocido\u0000' }],
    ] as const) {
      const res = await webhook(params)
      expect(res.status, res.text).toBe(400)
      expect(res.text).toContain(`${field}: must not contain NUL`)
    }
    await settle(300)
    expect(await jobCount()).toBe(before)
    expect(twilio.posts).toHaveLength(0)
  })

  it('missing or wrong X-Twilio-Signature → 403 and nothing is stored, no model call, no SMS', async () => {
    const { phone } = await smsUser()
    const before = await jobCount()
    expect((await webhook({ From: phone, Body: 'hola' }, { signature: null })).status).toBe(403)
    expect((await webhook({ From: phone, Body: 'hola' }, { signature: signTwilio('another-token', `${server.url}/api/channels/twilio/sms`, { From: phone, Body: 'hola' }) })).status).toBe(403)
    // signed for another path: still wrong
    const otherPath = signTwilio(TWILIO.TWILIO_AUTH_TOKEN, `${server.url}/twilio_webhook`, { AccountSid: TWILIO.TWILIO_ACCOUNT_SID, To: TWILIO.TWILIO_PHONE_NUMBER, MessageSid: 'SMx', Body: 'hola', NumMedia: '0', From: phone })
    expect((await webhook({ From: phone, Body: 'hola', MessageSid: 'SMx' }, { signature: otherPath })).status).toBe(403)
    await settle(300)
    expect(await jobCount()).toBe(before)
    expect(model.chatRequests).toHaveLength(0)
    expect(twilio.posts).toHaveLength(0)
  })

  it('a 50 kB body → 413, nothing stored', async () => {
    const { phone } = await smsUser()
    const before = await jobCount()
    const res = await webhook({ From: phone, Body: 'x'.repeat(50 * 1024) })
    expect(res.status).toBe(413)
    expect(await jobCount()).toBe(before)
  })
})

describe('SMS webhook: a registered user is answered by SMS', () => {
  it('200 text/xml <Response></Response> at once; the answer (plain text) is sent with basic auth from our number; the SMS conversation shows in the web app', async () => {
    const { client, phone } = await smsUser()
    model.once({ tokens: ['**Hola**', ', esto es ', '_importante_', ': revisa [el manual](https://x.cl/m).'] })
    const res = await webhook({ From: phone, Body: '¿Cómo reviso el medidor?' })
    expect(res.status).toBe(200)
    expect(res.type).toMatch(/^text\/xml/)
    expect(res.text).toBe('<Response></Response>')

    await twilio.waitFor(posts => posts.some(p => p.to === phone && p.sid))
    const [sent] = twilio.acceptedTo(phone)
    expect(sent).toMatchObject({
      accountSid: TWILIO.TWILIO_ACCOUNT_SID,
      auth: `${TWILIO.TWILIO_ACCOUNT_SID}:${TWILIO.TWILIO_AUTH_TOKEN}`,
      from: TWILIO.TWILIO_PHONE_NUMBER,
      body: 'Hola, esto es importante: revisa el manual (https://x.cl/m).',
    })
    // the model saw the message as the last user turn
    expect(model.chatRequests[0]!.body.messages.at(-1)).toEqual({ role: 'user', content: '¿Cómo reviso el medidor?' })

    const [conversation] = await eventually(async () => (await smsConversations(client)).length ? smsConversations(client) : null)
    const saved = await eventually(async () => { const m = await messagesOf(client, conversation!.id); return m.length === 2 ? m : null })
    expect(saved.map(m => [m.role, m.content])).toEqual([
      ['user', '¿Cómo reviso el medidor?'],
      ['assistant', '**Hola**, esto es _importante_: revisa [el manual](https://x.cl/m).'],
    ])
  })

  it('the assistant files a report by SMS as the user: the report says it came by SMS, its answer links it', async () => {
    const { client, id, phone } = await smsUser()
    model.set({
      toolCalls: body => (body.messages.at(-1)?.role === 'user' ? [{ name: 'create_report', arguments: { title: 'Poste caído en ruta 5', content: 'Km 12, sin luz' } }] : null),
      reply: body => (body.messages.at(-1)?.role === 'tool' ? 'Registré tu reporte.' : 'Sin herramientas.'),
    })
    await webhook({ From: phone, Body: 'reporta un poste caído en la ruta 5, km 12' })
    await twilio.waitFor(() => twilio.acceptedTo(phone).length === 1)
    expect(twilio.acceptedTo(phone)[0]!.body).toBe('Registré tu reporte.')
    const [report] = (await client.get('/api/reports')).body.data
    expect(report).toMatchObject({ title: 'Poste caído en ruta 5', reporterId: id, filedVia: 'sms' })
    const [conversation] = await smsConversations(client)
    const answer = (await messagesOf(client, conversation!.id)).at(-1) as any
    expect(answer.tools).toEqual([{ name: 'create_report', status: 'done', reportId: report.id }])
  })

  it('the next message lands in the same SMS conversation with the history as context', async () => {
    const { client, phone } = await smsUser()
    await webhook({ From: phone, Body: 'Primera' })
    await twilio.waitFor(posts => twilio.acceptedTo(phone).length === 1)
    await webhook({ From: phone, Body: 'Segunda' })
    await twilio.waitFor(posts => twilio.acceptedTo(phone).length === 2)
    const conversations = await smsConversations(client)
    expect(conversations).toHaveLength(1)
    expect((await messagesOf(client, conversations[0]!.id)).map(m => m.role)).toEqual(['user', 'assistant', 'user', 'assistant'])
    expect(model.chatRequests.at(-1)!.body.messages.slice(1).map((m: any) => m.content)).toEqual(['Primera', expect.any(String), 'Segunda'])
  })

  it('the SMS conversation is read-only on the web: POST /api/chat into it → 409, nothing saved', async () => {
    const { client, phone } = await smsUser()
    await webhook({ From: phone, Body: 'Hola' })
    await twilio.waitFor(() => twilio.acceptedTo(phone).length === 1)
    const [conversation] = await smsConversations(client)
    const res = await client.post('/api/chat', { message: 'desde la web', conversationId: conversation!.id })
    expect(res.status).toBe(409)
    expect(res.body.message).toMatch(/^conversationId: /)
    expect((await messagesOf(client, conversation!.id)).map(m => m.content)).not.toContain('desde la web')
  })

  it('the same MessageSid twice → 200 both times, one model call, one SMS', async () => {
    const { phone } = await smsUser()
    const sid = messageSid()
    const [a, b] = await Promise.all([webhook({ From: phone, Body: 'Hola', MessageSid: sid }), webhook({ From: phone, Body: 'Hola', MessageSid: sid })])
    expect([a.status, b.status]).toEqual([200, 200])
    await twilio.waitFor(() => twilio.acceptedTo(phone).length === 1)
    expect((await webhook({ From: phone, Body: 'Hola', MessageSid: sid })).status).toBe(200)
    await settle()
    expect(twilio.acceptedTo(phone)).toHaveLength(1)
    expect(model.chatRequests.filter(r => r.body.messages.at(-1).content === 'Hola')).toHaveLength(1)
  })

  it('an empty Body → 200, no model call, no SMS', async () => {
    const { phone } = await smsUser()
    expect((await webhook({ From: phone, Body: '   ' })).status).toBe(200)
    await settle()
    expect(model.chatRequests).toHaveLength(0)
    expect(twilio.posts).toHaveLength(0)
  })

  it('a long answer is flattened and split into parts of at most 1600 characters, sent in order', async () => {
    const { phone } = await smsUser()
    const answer = longAnswer()
    model.once({ reply: () => answer })
    await webhook({ From: phone, Body: 'Dame los pasos' })
    await twilio.waitFor(() => twilio.acceptedTo(phone).length >= 3)
    await settle(300)
    const parts = twilio.acceptedTo(phone).map(p => p.body)
    expect(parts.length).toBeGreaterThanOrEqual(3)
    for (const part of parts) expect(part.length).toBeLessThanOrEqual(1600)
    const joined = parts.join('\n')
    expect(joined).not.toMatch(/\*\*|##/)
    expect(joined.replace(/\s+/g, ' ')).toBe(answer.replace(/## /g, '').replace(/\*\*/g, '').replace(/\s+/g, ' '))
    expect(parts[0]).toMatch(/^Paso 1/)
    expect(parts.at(-1)).toMatch(/número 5 con cuidado\.$/)
  })

  it('a text longer than the admin\'s message limit gets one SMS naming the limit, no model call, nothing saved as a turn', async () => {
    const admin = new Client(server.url)
    await admin.login(DEMO.admin.email, DEMO.admin.password)
    const before = (await admin.get('/api/admin/settings')).body.maxMessageChars
    expect((await admin.put('/api/admin/settings', { maxMessageChars: 120 })).status).toBe(200)
    try {
      const { client, phone } = await smsUser()
      expect((await webhook({ From: phone, Body: 'x'.repeat(121) })).status).toBe(200)
      await twilio.waitFor(() => twilio.acceptedTo(phone).length === 1, 15_000)
      await settle()
      const sent = twilio.acceptedTo(phone)
      expect(sent).toHaveLength(1)
      expect(sent[0]!.body).toMatch(/demasiado largo \(máximo 120 caracteres\)/)
      expect(sent[0]!.body).not.toMatch(UNAVAILABLE)
      expect(model.chatRequests).toHaveLength(0)
      for (const conversation of await smsConversations(client)) expect(await messagesOf(client, conversation.id)).toEqual([])
    }
    finally {
      expect((await admin.put('/api/admin/settings', { maxMessageChars: before })).status).toBe(200)
    }
  })

  it('whatsapp:+569… is answered the same way, to and from whatsapp: addresses', async () => {
    const { client, phone } = await smsUser()
    const res = await webhook({ From: `whatsapp:${phone}`, To: `whatsapp:${TWILIO.TWILIO_PHONE_NUMBER}`, Body: 'Hola por WhatsApp' })
    expect(res.status).toBe(200)
    await twilio.waitFor(() => twilio.acceptedTo(`whatsapp:${phone}`).length === 1)
    expect(twilio.acceptedTo(`whatsapp:${phone}`)[0]).toMatchObject({ from: `whatsapp:${TWILIO.TWILIO_PHONE_NUMBER}` })
    expect(twilio.acceptedTo(phone)).toHaveLength(0)
    expect(await smsConversations(client)).toHaveLength(1)
  })

  it('Admin → Canales shows a reply sent by its inbound job (no sms.send job) as the last outbound message', async () => {
    const { phone } = await smsUser()
    await webhook({ From: `whatsapp:${phone}`, Body: 'Hola' })
    await twilio.waitFor(() => twilio.acceptedTo(`whatsapp:${phone}`).length === 1)
    const admin = new Client(server.url)
    await admin.login(DEMO.admin.email, DEMO.admin.password)
    const status = await eventually(async () => {
      const sms = (await admin.get('/api/admin/channels')).body.sms
      return sms.lastOutbound?.to === `whatsapp:${phone}` ? sms : null
    })
    expect(status.lastOutbound).toMatchObject({ channel: 'whatsapp', to: `whatsapp:${phone}` })
    expect(await sql("select id from jobs where kind = 'sms.send' and cast(payload as text) like ?", [`%${phone}%`])).toHaveLength(0)
  })

  it('/twilio_webhook is the same webhook (signed for its own path)', async () => {
    const { phone } = await smsUser()
    const res = await webhook({ From: phone, Body: 'Hola' }, { path: '/twilio_webhook' })
    expect(res.status).toBe(200)
    expect(res.text).toBe('<Response></Response>')
    await twilio.waitFor(() => twilio.acceptedTo(phone).length === 1)
  })
})

describe('SMS webhook: unknown senders', () => {
  it('an unknown number gets one "not registered" reply a day and an audit event; nothing else is stored, no model call', async () => {
    const stranger = rig.newPhone()
    const conversationsBefore = Number((await sql<{ n: number }>('select count(*) as n from conversations'))[0]!.n)
    for (const body of ['Hola', 'Hola otra vez']) expect((await webhook({ From: stranger, Body: body })).status).toBe(200)
    await twilio.waitFor(() => twilio.acceptedTo(stranger).length === 1)
    await settle()
    expect(twilio.acceptedTo(stranger)).toHaveLength(1)
    expect(twilio.acceptedTo(stranger)[0]!.body).toMatch(NOT_REGISTERED)
    expect(model.chatRequests).toHaveLength(0)
    expect(Number((await sql<{ n: number }>('select count(*) as n from conversations'))[0]!.n)).toBe(conversationsBefore)
    const audits = await sql<{ meta: unknown }>("select meta from audit_events where action = 'sms.unregistered_sender'")
    const metas = audits.map(a => JSON.stringify(a.meta))
    expect(metas.filter(m => m.includes(stranger.slice(-3))).length).toBeGreaterThanOrEqual(2)
    // the message text is in no job and no audit row
    expect(JSON.stringify(await sql('select payload from jobs'))).not.toContain('Hola otra vez')
    expect(metas.join()).not.toContain('Hola')
  })

  it('an unknown number\'s message posted again by Twilio (same MessageSid) is one audit event, one reply', async () => {
    const stranger = rig.newPhone()
    const sid = messageSid()
    for (let i = 0; i < 3; i++) expect((await webhook({ From: stranger, Body: 'Hola', MessageSid: sid })).status).toBe(200)
    await twilio.waitFor(() => twilio.acceptedTo(stranger).length === 1)
    await settle()
    expect(twilio.acceptedTo(stranger)).toHaveLength(1)
    const audits = await sql<{ meta: unknown }>("select meta from audit_events where action = 'sms.unregistered_sender'")
    expect(audits.map(a => JSON.stringify(a.meta)).filter(m => m.includes(sid))).toHaveLength(1)
  })

  it('an unverified number or an inactive user is treated as unknown', async () => {
    const unverified = await smsUser({ verified: false })
    const inactive = await smsUser({ active: false })
    await webhook({ From: unverified.phone, Body: 'Hola' })
    await webhook({ From: inactive.phone, Body: 'Hola' })
    await twilio.waitFor(() => twilio.acceptedTo(unverified.phone).length === 1 && twilio.acceptedTo(inactive.phone).length === 1)
    expect(twilio.accepted.every(p => NOT_REGISTERED.test(p.body))).toBe(true)
    expect(model.chatRequests).toHaveLength(0)
  })
})

describe('SMS channel: failures are retried', () => {
  it('a send that fails with 500, 500, 429 is retried until Twilio accepts it, then never sent again', async () => {
    const { phone } = await smsUser()
    twilio.fail(2, 500).fail(1, 429, 0)
    await webhook({ From: phone, Body: 'Hola' })
    await twilio.waitFor(() => twilio.acceptedTo(phone).length === 1)
    await settle()
    expect(twilio.posts.filter(p => p.to === phone).map(p => p.status)).toEqual([500, 500, 429, 201])
    const [job] = await sql<{ status: string, attempts: number }>("select status, attempts from jobs where kind = 'sms.send' and cast(payload as text) like ?", [`%${phone}%`])
    expect(job).toMatchObject({ status: 'done' })
    expect(Number(job!.attempts)).toBe(4)
  })

  it('a send waiting for its next try is counted in Admin → Canales as retrying, with its error, before it has failed', async () => {
    const { phone } = await smsUser()
    // Twilio says "too many requests, come back in 30 s": the reply waits in line with its error
    twilio.fail(1, 429, 30)
    await webhook({ From: phone, Body: 'Hola' })
    const admin = new Client(server.url)
    await admin.login(DEMO.admin.email, DEMO.admin.password)
    const sms = await eventually(async () => {
      const status = (await admin.get('/api/admin/channels')).body.sms
      return status.retrying.count >= 1 ? status : null
    })
    expect(sms.retrying).toMatchObject({ lastError: expect.stringContaining('429'), at: expect.any(String) })
    expect(sms.pending).toBeGreaterThanOrEqual(sms.retrying.count)
    expect(sms.failed.find((f: { to: string }) => f.to === phone)).toBeUndefined()
    expect(twilio.acceptedTo(phone)).toHaveLength(0)
  })

  it('the second part of a reply fails with 500: an sms.send job (this try counted) sends the parts not yet accepted, the first part once, the model asked once', async () => {
    const { phone } = await smsUser()
    model.once({ reply: () => longAnswer() })
    twilio.pass(1).fail(1, 500)
    await webhook({ From: phone, Body: 'Dame los pasos' })
    await twilio.waitFor(() => twilio.acceptedTo(phone).length >= 3)
    await settle()
    const posts = twilio.posts.filter(p => p.to === phone)
    expect(posts.map(p => p.status)).toEqual([201, 500, 201, 201])
    // the failed part is the one sent again, then the last; the first never twice
    expect(posts[2]!.body).toBe(posts[1]!.body)
    expect(new Set(twilio.acceptedTo(phone).map(p => p.body)).size).toBe(3)
    expect(twilio.acceptedTo(phone)[0]!.body).toMatch(/^Paso 1/)
    expect(model.chatRequests).toHaveLength(1)
    const rows = await sql<{ kind: string, status: string, attempts: number, payload: unknown }>('select kind, status, attempts, payload from jobs where cast(payload as text) like ? order by created_at', [`%${phone}%`])
    expect(rows.map(r => [r.kind, r.status, Number(r.attempts)])).toEqual([['sms.inbound', 'done', 1], ['sms.send', 'done', 2]])
    const send = typeof rows[1]!.payload === 'string' ? JSON.parse(rows[1]!.payload) : rows[1]!.payload
    expect(send).toMatchObject({ to: phone, sent: 3 })
    expect(send.sids).toHaveLength(3)
  })

  it('a send Twilio refuses (400) fails at once, shows in Admin → Canales, and the retry button sends it', async () => {
    const { phone } = await smsUser()
    twilio.fail(1, 400)
    await webhook({ From: phone, Body: 'Hola' })
    const admin = new Client(server.url)
    await admin.login(DEMO.admin.email, DEMO.admin.password)
    const failed = await eventually(async () => {
      const list = (await admin.get('/api/admin/channels')).body.sms.failed as Array<{ id: string, to: string }>
      return list.find(f => f.to === phone)
    })
    expect(twilio.posts.filter(p => p.to === phone)).toHaveLength(1)
    const status = (await admin.get('/api/admin/channels')).body.sms
    expect(status).toMatchObject({ configured: true, phoneNumber: TWILIO.TWILIO_PHONE_NUMBER, lastInbound: { channel: 'sms' }, webhookUrls: [`${server.url}/api/channels/twilio/sms`, `${server.url}/twilio_webhook`] })
    expect(failed).toMatchObject({ channel: 'sms', sent: 0, parts: 1, lastError: expect.stringContaining('400') })

    const worker = new Client(server.url)
    await worker.login(DEMO.worker.email, DEMO.worker.password)
    expect((await worker.get('/api/admin/channels')).status).toBe(403)
    expect((await worker.post(`/api/admin/channels/jobs/${failed.id}/retry`)).status).toBe(403)

    const retried = await admin.post(`/api/admin/channels/jobs/${failed.id}/retry`)
    expect(retried.status).toBe(200)
    await twilio.waitFor(() => twilio.acceptedTo(phone).length === 1)
    expect((await admin.post(`/api/admin/channels/jobs/${failed.id}/retry`)).status).toBe(409)
    expect((await admin.post('/api/admin/channels/jobs/01890000-0000-7000-8000-000000000000/retry')).status).toBe(404)
    const after = (await admin.get('/api/admin/channels')).body.sms
    expect(after.failed.find((f: { id: string }) => f.id === failed.id)).toBeUndefined()
    expect(after.lastOutbound).toMatchObject({ to: phone })
  })

  it('model down: the job retries, then the user gets one SMS saying the assistant is unavailable; the message stays saved', async () => {
    const { client, phone } = await smsUser()
    model.set({ errorStatus: 500, errorMessage: 'model crashed' })
    await webhook({ From: phone, Body: '¿Estás ahí?' })
    await twilio.waitFor(() => twilio.acceptedTo(phone).length === 1, 15_000)
    await settle()
    expect(twilio.acceptedTo(phone)).toHaveLength(1)
    expect(twilio.acceptedTo(phone)[0]!.body).toMatch(UNAVAILABLE)
    expect(model.chatRequests.length).toBe(3)
    const [conversation] = await smsConversations(client)
    expect((await messagesOf(client, conversation!.id)).map(m => [m.role, m.content])).toEqual([['user', '¿Estás ahí?']])
  })
})

describe('SMS channel: a crash between the answer and the send', () => {
  it('SIGKILL while the reply is being sent → after a restart the reply is sent once, without asking the model again', async () => {
    const { phone } = await smsUser()
    twilio.hold(1)
    await webhook({ From: phone, Body: 'Hola antes del corte' })
    await twilio.waitFor(posts => posts.some(p => p.to === phone))
    expect(model.chatRequests).toHaveLength(1)
    await server.stop('SIGKILL')
    server = await startServer(rig.env)
    await twilio.waitFor(() => twilio.acceptedTo(phone).length === 1, 15_000)
    await settle(1000)
    expect(twilio.acceptedTo(phone)).toHaveLength(1)
    expect(twilio.acceptedTo(phone)[0]!.body).toBe('Hola, soy un modelo de prueba.')
    expect(model.chatRequests).toHaveLength(1)
  }, 60_000)

  it('SIGKILL after the first part was accepted, while the second is sent → after a restart only the parts not yet accepted go out, without the model', async () => {
    const { phone } = await smsUser()
    model.once({ reply: () => longAnswer() })
    twilio.pass(1).hold(1)
    await webhook({ From: phone, Body: 'Dame los pasos antes del corte' })
    await twilio.waitFor(posts => posts.filter(p => p.to === phone).length === 2)
    expect(twilio.acceptedTo(phone)).toHaveLength(1)
    await server.stop('SIGKILL')
    server = await startServer(rig.env)
    await twilio.waitFor(() => twilio.acceptedTo(phone).length === 3, 15_000)
    await settle(1000)
    const accepted = twilio.acceptedTo(phone).map(p => p.body)
    expect(accepted).toHaveLength(3)
    expect(new Set(accepted).size).toBe(3)
    expect(accepted[0]).toMatch(/^Paso 1/)
    expect(accepted[2]).toMatch(/número 5 con cuidado\.$/)
    expect(model.chatRequests).toHaveLength(1)
  }, 60_000)
})

describe('SMS channel with DEMO_ACCOUNTS off (as in production)', () => {
  it('a person is answered as before; a demo account\'s verified number is treated as unknown', async () => {
    await server.stop()
    server = await startServer({ ...rig.env, DEMO_ACCOUNTS: 'false' })
    const { phone } = await smsUser()
    await webhook({ From: phone, Body: 'Hola' })
    await twilio.waitFor(() => twilio.acceptedTo(phone).length === 1)
    expect(twilio.acceptedTo(phone)[0]!.body).toBe('Hola, soy un modelo de prueba.')
    // a demo account (published password) left in the database by an earlier start with demo accounts on
    const demo = await smsUser()
    await sql('update users set is_demo = ? where id = ?', [true, demo.id])
    await webhook({ From: demo.phone, Body: 'Hola' })
    await twilio.waitFor(() => twilio.acceptedTo(demo.phone).length === 1)
    await settle()
    expect(twilio.acceptedTo(demo.phone).map(p => p.body)).toEqual([expect.stringMatching(NOT_REGISTERED)])
    expect(model.chatRequests.filter(r => JSON.stringify(r).includes('Hola'))).toHaveLength(1)
  }, 60_000)
})
