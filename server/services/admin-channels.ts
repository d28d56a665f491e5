import type { ApiChannelFailedSend, ApiChannels, SmsAddressChannel } from '#shared/channels'
import { and, desc, eq, inArray, sql } from 'drizzle-orm'
import { useDb } from '../db/client'
import { type Job, jobs, users } from '../db/schema'
import { SMS_JOB_KINDS } from './channels/sms'
import { twilioConfig } from './channels/twilio'
import { findJob, newestJobs, retryJob } from './jobs'

const FAILED_SHOWN = 50

interface SendPayload { to?: string, channel?: SmsAddressChannel, parts?: string[], sent?: number, userId?: string }
interface InboundPayload { channel?: SmsAddressChannel, userId?: string, from?: string, reply?: { sent?: number } }

// how many of the newest finished jobs are looked through for the last reply sent (an inbound job may have sent none)
const OUTBOUND_LOOKBACK = 20

/** Where a finished job sent a reply: an `sms.send`, or an `sms.inbound` that sent its own reply (channels/sms.ts). */
function outboundOf(job: Job): { to: string, channel: SmsAddressChannel } | undefined {
  if (job.kind === 'sms.send') {
    const p = job.payload as SendPayload
    return { to: p.to ?? '', channel: p.channel ?? 'sms' }
  }
  const p = job.payload as InboundPayload
  return p.reply?.sent ? { to: p.from ?? '', channel: p.channel ?? 'sms' } : undefined
}

async function namesOf(ids: Array<string | undefined>) {
  const wanted = [...new Set(ids.filter((id): id is string => !!id))]
  if (!wanted.length) return new Map<string, string>()
  const rows = await useDb().select({ id: users.id, fullName: users.fullName }).from(users).where(inArray(users.id, wanted))
  return new Map(rows.map(r => [r.id, r.fullName]))
}

function toFailedSend(job: Job, names: Map<string, string>): ApiChannelFailedSend {
  const p = job.payload as SendPayload
  return {
    id: job.id,
    to: p.to ?? '',
    channel: p.channel ?? 'sms',
    userId: p.userId ?? null,
    userName: (p.userId && names.get(p.userId)) || null,
    sent: p.sent ?? 0,
    parts: p.parts?.length ?? 0,
    attempts: job.attempts,
    lastError: job.lastError,
    createdAt: job.createdAt.toISOString(),
    updatedAt: job.updatedAt.toISOString(),
  }
}

/** Admin → Canales: whether the SMS channel is on, its latest traffic and the replies that could not be sent. */
export async function channelStatus(): Promise<ApiChannels> {
  const config = twilioConfig()
  const db = useDb()
  const kinds = [...SMS_JOB_KINDS]
  const inLine = and(inArray(jobs.kind, kinds), inArray(jobs.status, ['pending', 'running']))
  // One statement counts the line and, of it, the jobs with an error (they failed a try and wait for their next one),
  // and reads the newest of those first: separate queries could each see another moment (a job leaving the line).
  const line = db.select({
    waiting: sql<number | string>`count(*) over ()`,
    retrying: sql<number | string>`count(${jobs.lastError}) over ()`,
    lastError: jobs.lastError,
    updatedAt: jobs.updatedAt,
  }).from(jobs).where(inLine).orderBy(sql`${jobs.lastError} is null`, desc(jobs.updatedAt)).limit(1)
  const [[inbound], finished, [first], failed] = await Promise.all([
    db.select().from(jobs).where(eq(jobs.kind, 'sms.inbound')).orderBy(desc(jobs.createdAt)).limit(1),
    db.select().from(jobs).where(and(inArray(jobs.kind, kinds), eq(jobs.status, 'done'))).orderBy(desc(jobs.updatedAt)).limit(OUTBOUND_LOOKBACK),
    line,
    newestJobs(['sms.send'], 'failed', FAILED_SHOWN),
  ])
  const outbound = finished.find(outboundOf)
  const inboundPayload = inbound?.payload as InboundPayload | undefined
  const names = await namesOf([inboundPayload?.userId, ...failed.map(j => (j.payload as SendPayload).userId)])
  const origin = useConfig().publicOrigin
  return {
    sms: {
      configured: !!config,
      phoneNumber: config?.phoneNumber ?? null,
      webhookUrls: [`${origin}/api/channels/twilio/sms`, `${origin}/twilio_webhook`],
      lastInbound: inbound
        ? { at: inbound.createdAt.toISOString(), channel: inboundPayload?.channel ?? 'sms', userId: inboundPayload?.userId ?? null, userName: (inboundPayload?.userId && names.get(inboundPayload.userId)) || null }
        : null,
      lastOutbound: outbound ? { at: outbound.updatedAt.toISOString(), ...outboundOf(outbound)! } : null,
      pending: Number(first?.waiting ?? 0),
      retrying: first?.lastError
        ? { count: Number(first.retrying), lastError: first.lastError, at: first.updatedAt.toISOString() }
        : { count: 0, lastError: null, at: null },
      failed: failed.map(job => toFailedSend(job, names)),
    },
  }
}

/** Puts a failed reply back in line: 404 for anything but a channel send, 409 unless it failed. */
export async function retryFailedSend(id: string): Promise<ApiChannelFailedSend> {
  const job = await findJob(id)
  if (!job || job.kind !== 'sms.send') throw createError({ statusCode: 404, message: 'No such send' })
  if (job.status !== 'failed') throw fieldError('status', `the send is ${job.status}, only a failed send can be retried`, 409)
  const row = await retryJob(id)
  if (!row) throw fieldError('status', 'the send is no longer failed', 409)
  return toFailedSend(row, await namesOf([(row.payload as SendPayload).userId]))
}
