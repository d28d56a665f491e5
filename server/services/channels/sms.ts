import { createHash } from 'node:crypto'
import type { H3Event } from 'h3'
import { and, asc, eq, gt, isNotNull, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import { driverValue, rawRows, useDb } from '../../db/client'
import { auditEvents, type Conversation, conversations, dialect, type Job, type User, users } from '../../db/schema'
import { audit } from '../audit'
import { newConversation } from '../conversations'
import { backoffDelay, commitTogether, defineJob, enqueue, jobDone, jobInsert, type JobOutcome, PermanentError, RetryableError, wakeWorkers } from '../jobs'
import { getSettings } from '../settings'
import { usable } from '../users'
import { answerSms, RefusedTurn, type TurnProgress } from './answer'
import { flattenMarkdown, splitMessage } from './sms-text'
import { parseAddress, postMessage, senderFor, twilioConfig } from './twilio'

/**
 * The SMS channel (API.md "SMS channel (Twilio)"): the webhook only checks, stores and enqueues; jobs answer.
 *   sms.inbound  one received message of a known user: answered in their SMS conversation by the orchestrator
 *                (tools included); the reply is stored in the job's payload, then sent by the job itself, part
 *                after part. A send that fails hands the parts not yet accepted to an `sms.send` job (in one commit
 *                with this job's end), so the reply is never lost or doubled
 *   sms.send     one reply to one address, part after part: a part Twilio accepted is never sent again. Carries the
 *                "not registered" and "unavailable" replies, and retries (with back-off) a reply whose send failed
 */

export const REPLY_NOT_REGISTERED = 'EnergyApp: este número no está registrado. Pide a tu administrador que lo asocie a tu cuenta o verifícalo en Ajustes de la app.'
export const REPLY_UNAVAILABLE = 'EnergyApp: el asistente no está disponible en este momento. Tu mensaje quedó guardado; intenta de nuevo más tarde.'
export const SMS_CONVERSATION_TITLE = 'SMS'

type Channel = 'sms' | 'whatsapp'
/** A reply's parts go out one after the other; `sent` counts the parts Twilio accepted, `sids` their ids. */
interface Parts { parts: string[], sent: number, sids: string[] }
/** `reply`, once the model answered: what the job sends (a retry sends from there, without the model). */
interface InboundPayload extends TurnProgress { sid: string, from: string, channel: Channel, userId: string, body: string, reply?: Parts & { conversationId: string } }
interface SendPayload extends Parts { to: string, channel: Channel, userId?: string, conversationId?: string }
const reply = (to: string, channel: Channel, parts: string[], extra: Partial<SendPayload> = {}): Record<string, unknown> =>
  ({ to, channel, parts, sent: 0, sids: [], ...extra } satisfies SendPayload)

/** The usable (active, not a retired demo) user whose verified phone is `number`, if any. */
async function userByVerifiedPhone(number: string): Promise<User | undefined> {
  const rows = await useDb().select().from(users)
    .where(and(eq(users.phone, number), isNotNull(users.phoneVerifiedAt))).orderBy(asc(users.createdAt)).limit(5)
  return rows.find(usable)
}

/** A number shown in audit and admin views without its middle digits. */
export const maskNumber = (number: string) => number.length > 6 ? `${number.slice(0, 4)}…${number.slice(-3)}` : '…'

export type Received = 'queued' | 'duplicate' | 'empty' | 'unregistered'

/**
 * The webhook's common case in ONE statement (one round trip and one commit on PostgreSQL, where each round trip
 * also waits its turn on a busy event loop): the `sms.inbound` job is inserted for the active user whose verified
 * phone is `number`, that user's id merged into its payload. Nothing is inserted when there is no such user or the
 * MessageSid's job exists already (its dedupe key). True when the job was stored.
 */
async function enqueueForVerifiedPhone(number: string, payload: Omit<InboundPayload, 'userId'>): Promise<boolean> {
  const json = JSON.stringify(payload)
  const now = driverValue(new Date())
  const at = dialect === 'pg' ? sql`${now}::timestamptz` : sql`${now}`
  const withUser = dialect === 'pg' ? sql`jsonb_set(${json}::jsonb, '{userId}', to_jsonb(u.id))` : sql`json_set(${json}, '$.userId', u.id)`
  const rows = await rawRows<{ id: string }>(sql`insert into jobs (id, kind, payload, status, attempts, run_at, dedupe_key, created_at, updated_at)
    select ${uuidv7()}, 'sms.inbound', ${withUser}, 'pending', 0, ${at}, ${`sms-in:${payload.sid}`}, ${at}, ${at}
    from users u where u.phone = ${number} and u.phone_verified_at is not null and u.active${useConfig().demoAccounts ? sql`` : sql` and not u.is_demo`}
    order by u.created_at limit 1
    on conflict (dedupe_key) do nothing
    returning id`)
  if (rows.length) wakeWorkers()
  return rows.length > 0
}

/**
 * A signed Twilio message: an unknown (or inactive) sender gets at most one "not registered" reply a day and an
 * audit event; an empty body is ignored; anything else becomes one `sms.inbound` job per MessageSid.
 */
export async function receiveMessage(event: H3Event, params: URLSearchParams): Promise<Received> {
  const sid = params.get('MessageSid') || params.get('SmsSid') || ''
  const from = params.get('From') ?? ''
  const body = (params.get('Body') ?? '').trim()
  const { channel, number } = parseAddress(from)
  if (body && await enqueueForVerifiedPhone(number, { sid, from, channel, body })) return 'queued'
  // nothing stored: an unknown sender, an empty body, or this MessageSid again
  const user = await userByVerifiedPhone(number)
  if (!user) {
    const day = new Date().toISOString().slice(0, 10)
    await enqueue('sms.send', reply(from, channel, [REPLY_NOT_REGISTERED]), { dedupeKey: `sms-unregistered:${from}:${day}` })
    // Twilio posts a message again when our answer was slow or lost: it is still one event
    if (!await unregisteredAudited(sid))
      await audit(event, 'sms.unregistered_sender', { targetType: 'phone', meta: { channel, from: maskNumber(number), messageSid: sid } })
    return 'unregistered'
  }
  if (!body) return 'empty'
  // (the phone verified between the two statements: stored now; a repeated MessageSid stays one job)
  const { created } = await enqueue('sms.inbound', { sid, from, channel, userId: user.id, body } satisfies InboundPayload, { dedupeKey: `sms-in:${sid}` })
  return created ? 'queued' : 'duplicate'
}

/** Whether this MessageSid from an unknown sender is in the audit log already (Twilio retries within hours). */
async function unregisteredAudited(sid: string) {
  const sidOf = dialect === 'pg' ? sql`${auditEvents.meta}->>'messageSid'` : sql`json_extract(${auditEvents.meta}, '$.messageSid')`
  const rows = await useDb().select({ id: auditEvents.id }).from(auditEvents).where(and(
    gt(auditEvents.at, new Date(Date.now() - 2 * 86_400_000)),
    eq(auditEvents.action, 'sms.unregistered_sender'),
    eq(sidOf, sid),
  )).limit(1)
  return rows.length > 0
}

/** The same id for a user's SMS conversation on every try (a stable v8-style UUID from the user id). */
function smsConversationId(userId: string) {
  const h = createHash('sha256').update(`sms-conversation:${userId}`).digest('hex')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-${((Number.parseInt(h[16]!, 16) & 0x3) | 0x8).toString(16)}${h.slice(17, 20)}-${h.slice(20, 32)}`
}

/** The user's SMS conversation, created on their first message (one per user; WhatsApp shares it). */
async function smsConversation(user: User): Promise<Conversation> {
  const db = useDb()
  const find = async () => (await db.select().from(conversations)
    .where(and(eq(conversations.userId, user.id), eq(conversations.channel, 'sms'))).orderBy(asc(conversations.createdAt)).limit(1))[0]
  const existing = await find()
  if (existing) return existing
  const { defaultModel } = await getSettings()
  await db.insert(conversations).values(newConversation(user.id, { id: smsConversationId(user.id), title: SMS_CONVERSATION_TITLE, model: defaultModel, channel: 'sms' }))
    .onConflictDoNothing()
  const made = await find()
  if (made) return made
  // the stable id is taken (that conversation was reassigned to someone else): a fresh one
  const fresh = newConversation(user.id, { title: SMS_CONVERSATION_TITLE, model: defaultModel, channel: 'sms' })
  await db.insert(conversations).values(fresh)
  return fresh
}

/**
 * Sends the parts of `progress` not yet accepted, in order, on `to`. `accepted` is called after each part Twilio
 * accepted (with the progress after it; the last part's call also ends the job): a retry goes on from the saved
 * `sent`. `progress` itself is kept current, so a caller that catches a failure knows which parts went out.
 * Resolves to 'done' once the last part's call ended the job; nothing when no part was left to send.
 */
async function sendParts(progress: Parts, to: string, channel: Channel, accepted: (p: Parts, last: boolean) => Promise<void>): Promise<JobOutcome> {
  if (progress.sent >= progress.parts.length) return
  const config = twilioConfig()
  if (!config) throw new PermanentError('the SMS channel is not configured')
  while (progress.sent < progress.parts.length) {
    const sid = await postMessage(config, { to, from: senderFor(config, channel), body: progress.parts[progress.sent]! })
    progress.sent++
    progress.sids = [...progress.sids, sid]
    await accepted({ parts: progress.parts, sent: progress.sent, sids: progress.sids }, progress.sent === progress.parts.length)
  }
  return 'done'
}

defineJob('sms.inbound', {
  // read when a job runs, not at import: a bad SMS_MODEL_ATTEMPTS is reported by the start-up first
  get maxAttempts() { return useConfig().sms.modelAttempts },
  async run({ job, saveProgress, finish }) {
    let p = job.payload as unknown as InboundPayload
    if (!p.reply) {
      const [user] = await useDb().select().from(users).where(eq(users.id, p.userId)).limit(1)
      // disabled (or number removed) since the message arrived: nothing to answer
      if (!user || !usable(user) || user.phone !== parseAddress(p.from).number || !user.phoneVerifiedAt) return
      const conversation = await smsConversation(user)
      const answer = await answerSms(user, conversation, p.body, job.createdAt, p, progress => saveProgress({ ...p, ...progress }))
      // stored before the first part goes out: a crash or a failed send later resumes from it, without the model
      p = { ...p, reply: { parts: splitMessage(flattenMarkdown(answer.content)), sent: 0, sids: [], conversationId: conversation.id } }
      await saveProgress({ ...p })
      log.info('sms answered', { userId: user.id, conversationId: conversation.id, channel: p.channel, parts: p.reply!.parts.length })
    }
    const reply = p.reply!
    try {
      return await sendParts(reply, p.from, p.channel, (sent, last) => (last ? finish : saveProgress)({ ...p, reply: { ...reply, ...sent } }))
    }
    catch (error) {
      await handOverReply(job, p, reply, error instanceof Error ? error : new Error(String(error)))
      return 'done'
    }
  },
  // the model stayed down through every try: one message saying so (the user's own message stays saved); a
  // message the app refused (too long for the admin's limit) gets the reason instead
  async onGiveUp(job, error) {
    const p = job.payload as unknown as InboundPayload
    const text = error instanceof RefusedTurn ? error.reply : REPLY_UNAVAILABLE
    await enqueue('sms.send', reply(p.from, p.channel, [text], { userId: p.userId }), { dedupeKey: `sms-unavailable:${job.id}` })
  },
})

/**
 * A reply whose send failed in its `sms.inbound` job goes on as an `sms.send` job (its tries, back-off and Admin →
 * Canales "failed sends"): the parts not yet accepted, this try counted, in one commit with the inbound job's end.
 */
async function handOverReply(job: Job, p: InboundPayload, r: NonNullable<InboundPayload['reply']>, error: Error) {
  const retryAfter = error instanceof RetryableError ? error.retryAfterMs ?? 0 : 0
  const failed = error instanceof PermanentError || useConfig().sms.sendAttempts <= 1
  const payload = reply(p.from, p.channel, r.parts, { sent: r.sent, sids: r.sids, userId: p.userId, conversationId: r.conversationId })
  await commitTogether(d => [
    jobInsert(d, 'sms.send', payload, {
      dedupeKey: `sms-out:${job.id}`,
      runAt: new Date(Date.now() + Math.max(backoffDelay(1), retryAfter)),
      tried: { attempts: 1, lastError: error.message, failed },
    }),
    jobDone(d, job.id),
  ])
  log.warn('sms reply send failed, handed to a send job', { jobId: job.id, channel: p.channel, sent: r.sent, parts: r.parts.length, failed, error: error.message.slice(0, 200) })
}

defineJob('sms.send', {
  get maxAttempts() { return useConfig().sms.sendAttempts },
  // the last part's progress and the job's end are one statement
  async run({ job, saveProgress, finish }) {
    const p = job.payload as unknown as SendPayload
    return sendParts(p, p.to, p.channel, (sent, last) => (last ? finish : saveProgress)({ ...p, ...sent }))
  },
})

/** Kinds shown in Admin → Canales. */
export const SMS_JOB_KINDS = ['sms.inbound', 'sms.send'] as const
export type SmsJob = Job
