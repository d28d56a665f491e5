import { createHmac, timingSafeEqual } from 'node:crypto'
import { type TwilioConfig, useConfig } from '../../utils/config'
import { PermanentError, RetryableError } from '../jobs'

/**
 * Twilio: configuration, the webhook signature, and sending a message through the REST API. Sending uses a plain
 * `fetch` so that `TWILIO_API_BASE` can point at a fake in tests (the `twilio` package's client cannot); the
 * signature is Twilio's documented HMAC-SHA1, computed with node:crypto.
 */

/** The account (TWILIO_* variables, read and validated by utils/config.ts); null when the channel is off. */
export const twilioConfig = (): TwilioConfig | null => useConfig().twilio

/** The SMS channel is on when the account, token and number are all set. */
export const smsConfigured = () => twilioConfig() !== null

/**
 * Twilio's `X-Twilio-Signature`: base64 HMAC-SHA1, keyed with the auth token, of the full URL Twilio called
 * followed by every POST parameter name and value, sorted by name (a repeated name: its values sorted).
 */
export function twilioSignature(authToken: string, url: string, params: URLSearchParams) {
  let data = url
  for (const name of [...new Set(params.keys())].sort()) {
    for (const value of params.getAll(name).sort()) data += name + value
  }
  return createHmac('sha1', authToken).update(data, 'utf8').digest('base64')
}

/** True when `signature` is Twilio's for this URL and these parameters (compared in constant time). */
export function validSignature(authToken: string, signature: string | undefined, url: string, params: URLSearchParams) {
  if (!signature) return false
  const expected = Buffer.from(twilioSignature(authToken, url, params))
  const given = Buffer.from(signature)
  return given.length === expected.length && timingSafeEqual(given, expected)
}

/** `whatsapp:+569…` → the WhatsApp channel and the bare number; anything else is SMS. */
export function parseAddress(address: string) {
  const whatsapp = address.toLowerCase().startsWith('whatsapp:')
  return { channel: whatsapp ? 'whatsapp' as const : 'sms' as const, number: (whatsapp ? address.slice('whatsapp:'.length) : address).trim() }
}

/** Our number on a channel: replies to `whatsapp:` addresses come from `whatsapp:` + the WhatsApp sender. */
export function senderFor(config: TwilioConfig, channel: 'sms' | 'whatsapp') {
  return channel === 'whatsapp' ? `whatsapp:${config.whatsappNumber.replace(/^whatsapp:/i, '')}` : config.phoneNumber
}

const SEND_TIMEOUT_MS = 15_000

/**
 * POST …/Messages.json once. Resolves with Twilio's message sid when accepted; throws `RetryableError` for a
 * network failure, 429 or 5xx (honouring Retry-After) and `PermanentError` for any other refusal.
 */
export async function postMessage(config: TwilioConfig, message: { to: string, from: string, body: string }): Promise<string> {
  const url = `${config.apiBase}/2010-04-01/Accounts/${encodeURIComponent(config.accountSid)}/Messages.json`
  let res: Response
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'authorization': `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ To: message.to, From: message.from, Body: message.body }),
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
    })
  }
  catch (error) {
    throw new RetryableError(`twilio unreachable: ${(error as Error).message}`)
  }
  const text = await res.text().catch(() => '')
  if (res.ok) {
    try { return String(JSON.parse(text).sid ?? '') }
    catch { return '' }
  }
  // Twilio's error body names the problem (code, message) but never the message text we sent
  const detail = `twilio ${res.status}${errorCode(text)}`
  if (res.status === 429 || res.status >= 500) throw new RetryableError(detail, retryAfterMs(res.headers.get('retry-after')))
  throw new PermanentError(detail)
}

function errorCode(text: string) {
  try {
    const body = JSON.parse(text) as { code?: number, message?: string }
    return body.code ? ` (code ${body.code})` : ''
  }
  catch { return '' }
}

function retryAfterMs(header: string | null) {
  const seconds = Number(header)
  return Number.isFinite(seconds) && seconds > 0 ? Math.min(seconds, 3600) * 1000 : undefined
}

export type SmsResult = { sent: true, sid: string } | { sent: false, reason: 'not-configured' | 'failed', error?: string }

/**
 * Sends `body` to `to` right away (one try; a verification code is worth nothing minutes later). Never logs the
 * body. The SMS channel's replies go through durable jobs instead (`channels/sms.ts`).
 */
export async function sendSms(to: string, body: string): Promise<SmsResult> {
  const config = twilioConfig()
  if (!config) return { sent: false, reason: 'not-configured' }
  const { channel } = parseAddress(to)
  try {
    const sid = await postMessage(config, { to, from: senderFor(config, channel), body })
    return { sent: true, sid }
  }
  catch (error) {
    log.warn('sms send failed', { channel, error: (error as Error).message })
    return { sent: false, reason: 'failed', error: (error as Error).message }
  }
}
