/**
 * Stable error codes: every API error answer carries one in `data.reason` (the `message` stays for people
 * reading logs and curl). The UI translates the code (i18n `errors.reason.*`), never the message.
 * A reason set where the error is thrown wins; otherwise the error handler names the status.
 */
export const ERROR_REASONS = [
  // given by the status when the thrower named none (server/error.ts)
  'invalid-input', 'forbidden', 'not-found', 'method-not-allowed', 'conflict', 'too-large', 'rate-limited',
  'server-error', 'unavailable', 'database-unavailable',
  // named where they are thrown
  'not-signed-in', 'cross-site', 'permission', 'change-password', 'enrol-2fa', 'verify-email',
  'ollama-down', 'model-missing', 'model-error', 'sms-not-configured', 'sms-failed',
  // a new password refused (server/services/passwords.ts), one per rule
  'password-too-short', 'password-common', 'password-has-email', 'password-repetitive',
  // POST /api/chat: an outbox message (`clientId`) the server already saved
  'already-sent',
] as const
export type ErrorReason = typeof ERROR_REASONS[number]

/** The reason an error without its own gets from its status (401 has none: it is about credentials or a session). */
export function reasonForStatus(statusCode: number): ErrorReason | null {
  switch (statusCode) {
    case 400: return 'invalid-input'
    case 403: return 'forbidden'
    case 404: return 'not-found'
    case 405: return 'method-not-allowed'
    case 409: return 'conflict'
    case 413: return 'too-large'
    case 429: return 'rate-limited'
    case 503: return 'unavailable'
    default: return statusCode >= 500 ? 'server-error' : null
  }
}

/** Why a chat stream ended with `event: error` instead of `done` (ChatEvents['error'].reason). */
export const STREAM_ERROR_REASONS = ['model-error', 'save-failed', 'answer-interrupted', 'server-restarting', 'session-revoked', 'reassigned', 'deleted'] as const
export type StreamErrorReason = typeof STREAM_ERROR_REASONS[number]
