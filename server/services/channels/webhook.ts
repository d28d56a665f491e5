import type { H3Event } from 'h3'
import { textProblem } from '#shared/text'
import { receiveMessage } from './sms'
import { twilioConfig, validSignature } from './twilio'

/** Twilio's form posts are a few kB at most (a 1600-character body, URL-encoded, plus its metadata). */
export const MAX_WEBHOOK_BYTES = 32 * 1024
/** Twilio's addresses (`+569…`, `whatsapp:+569…`) and SIDs (34 characters) are short; longer ones are no message of theirs. */
const MAX_ADDRESS_CHARS = 100

const fail = (statusCode: number, message: string) => createError({ statusCode, message })
const tooLarge = () => fieldError('body', `larger than ${MAX_WEBHOOK_BYTES} bytes`, 413)

/**
 * `POST /api/channels/twilio/sms` and `/twilio_webhook`: 404 while the channel is off, 413 past the size limit,
 * 403 unless `X-Twilio-Signature` is Twilio's for PUBLIC_ORIGIN + this path (nothing stored), else the message
 * is stored and queued and Twilio gets an empty TwiML answer at once.
 */
export async function twilioWebhook(event: H3Event) {
  const config = twilioConfig()
  if (!config) throw fail(404, 'The SMS channel is not configured')
  if (Number(getRequestHeader(event, 'content-length') || 0) > MAX_WEBHOOK_BYTES) throw tooLarge()
  const raw = (await readRawBody(event, 'utf8')) ?? ''
  if (Buffer.byteLength(raw) > MAX_WEBHOOK_BYTES) throw tooLarge()
  const params = new URLSearchParams(raw)
  const url = useConfig().publicOrigin + event.path
  if (!validSignature(config.authToken, getRequestHeader(event, 'x-twilio-signature'), url, params))
    throw fail(403, 'X-Twilio-Signature: missing or wrong')
  // text the database cannot store (NUL, half a character) is refused like any body's, before anything is stored
  for (const [key, value] of params) {
    const problem = textProblem(value)
    if (problem) throw fieldError(key, problem)
  }
  if (!params.get('From')) throw fieldError('From', 'is required')
  if (!params.get('MessageSid') && !params.get('SmsSid')) throw fieldError('MessageSid', 'is required')
  // both end up in a unique index (the job's dedupe key), which PostgreSQL limits to a few kB
  for (const key of ['From', 'MessageSid', 'SmsSid']) {
    if ((params.get(key)?.length ?? 0) > MAX_ADDRESS_CHARS) throw fieldError(key, `must be at most ${MAX_ADDRESS_CHARS} characters`)
  }
  await receiveMessage(event, params)
  setResponseHeader(event, 'content-type', 'text/xml; charset=utf-8')
  return '<Response></Response>'
}
