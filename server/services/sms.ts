/**
 * The seam through which the app sends a text message. Until the SMS channel exists (TWILIO_* set and the
 * channel built), it answers "not configured" and callers refuse what needs it.
 */
export type SmsResult = { sent: true } | { sent: false, reason: 'not-configured' }

export const smsConfigured = () =>
  !!(process.env.TWILIO_ACCOUNT_SID && process.env.TWILIO_AUTH_TOKEN && process.env.TWILIO_PHONE_NUMBER)

/** Sends `body` to `to` (E.164). Never logs the body (it may hold a code). */
export async function sendSms(_to: string, _body: string): Promise<SmsResult> {
  return { sent: false, reason: 'not-configured' }
}
