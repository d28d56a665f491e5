import { inject } from 'vitest'
import { dbQuery, dbTime } from './db'
import { FakeOllama } from './fake-ollama'
import { FakeTwilio, messageSid, signTwilio } from './fake-twilio'
import { newWorker } from './http'
import { createTestDatabase, type TestDatabase } from './server'

/** The SMS channel's account: a server with these set has the channel on (TWILIO_API_BASE points it at the fake). */
export const TWILIO = {
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  TWILIO_AUTH_TOKEN: 'test-auth-token-0123456789abcdef',
  TWILIO_PHONE_NUMBER: '+15005550006',
}

export const SMS_WEBHOOK = '/api/channels/twilio/sms'

export interface SmsRig {
  model: FakeOllama
  twilio: FakeTwilio
  db: TestDatabase
  /** What a server of this rig is started with (the caller adds its own settings and starts as many as it needs). */
  env: Record<string, string>
  sql: <T = Record<string, unknown>>(text: string, params?: unknown[]) => Promise<T[]>
  /** A phone number no other test of this process has used. */
  newPhone: () => string
  /** A verified worker with a fresh phone number (straight in the database: the phone routes live elsewhere). */
  smsUser: (baseUrl: string, options?: { verified?: boolean, active?: boolean }) => Promise<{ client: Awaited<ReturnType<typeof newWorker>>['client'], id: string, phone: string }>
  close: () => Promise<void>
}

/**
 * What the SMS tests share: the fake Ollama as the model, the fake Twilio as the REST API and a fresh database of
 * the project's kind. Back-off and polling are shortened by `env` so that retries take seconds, not minutes.
 * `phonePrefix` keeps the numbers of two files apart.
 */
export async function startSmsRig(phonePrefix: string, env: Record<string, string> = {}): Promise<SmsRig> {
  const model = await new FakeOllama().start()
  const twilio = await new FakeTwilio().start()
  const db = await createTestDatabase(inject('dbKind'))
  const sql = <T = Record<string, unknown>>(text: string, params: unknown[] = []) => dbQuery<T>(text, params, db.url)
  let phones = 0
  const newPhone = () => `${phonePrefix}${String(process.pid % 1000).padStart(3, '0')}${String(++phones).padStart(4, '0')}`
  return {
    model,
    twilio,
    db,
    env: { DATABASE_URL: db.url, OLLAMA_HOST: model.url, TWILIO_API_BASE: twilio.url, ...TWILIO, JOB_BACKOFF_MS: '100', JOB_POLL_MS: '50', ...env },
    sql,
    newPhone,
    smsUser: async (baseUrl, options = {}) => {
      const { client, user } = await newWorker(baseUrl)
      const phone = newPhone()
      await sql('update users set phone = ?, phone_verified_at = ?, active = ? where id = ?',
        [phone, options.verified === false ? null : dbTime(new Date(), db.url), options.active ?? true, user.id])
      return { client, id: user.id as string, phone }
    },
    close: async () => {
      await model.close()
      await twilio.close()
      await db.drop()
    },
  }
}

/** The form Twilio posts for an inbound text (a fresh MessageSid unless given). */
export const inboundForm = (params: { From: string, Body?: string, MessageSid?: string, To?: string }): Record<string, string> =>
  ({ AccountSid: TWILIO.TWILIO_ACCOUNT_SID, To: TWILIO.TWILIO_PHONE_NUMBER, MessageSid: messageSid(), Body: '', NumMedia: '0', ...params })

/** The X-Twilio-Signature Twilio sends for `form` posted to `baseUrl + path`. */
export const twilioSignature = (baseUrl: string, path: string, form: Record<string, string>) =>
  signTwilio(TWILIO.TWILIO_AUTH_TOKEN, baseUrl + path, form)
