import { eq } from 'drizzle-orm'
import type { H3Event } from 'h3'

/** What the answer is made from. */
interface ApiError { statusCode?: number, statusMessage?: string, message: string, data?: unknown }
import type { NitroErrorHandler } from 'nitropack'
import { reasonForStatus } from '#shared/errors'
import { databaseUnavailable, referenceGone, rootCause, useDb } from './db/client'
import { users } from './db/schema'

const DB_RETRY_SECONDS = 5

/**
 * API errors answer `{statusCode, message, data}` (API.md); a database that cannot be reached answers 503 with
 * Retry-After; other unexpected errors are logged and answer a bare 500 with no internals. Pages fall back to the
 * SPA shell.
 */
export default <NitroErrorHandler> async function (thrown, event) {
  let error: ApiError = thrown
  // a write that lost a race with a delete (a foreign key refused it) is not a server error: the services answer
  // the cases they know precisely; anything left is answered below as a 401 when the caller themself was deleted,
  // else a 409
  if (isUnexpected(error) && !databaseUnavailable(error) && referenceGone(error)) {
    log.warn('write lost a race with a delete', { path: event.path.split('?')[0], method: event.method })
    error = await goneError(event)
  }
  let statusCode = error.statusCode || 500
  const unexpected = isUnexpected(error)
  const dbDown = unexpected && databaseUnavailable(error)
  if (dbDown) statusCode = 503
  // the driver's own error, not drizzle's wrapper: that one quotes the query's parameters (message text, hashes)
  const cause = rootCause(error) as { code?: string, message?: string }
  if (unexpected) log.error(dbDown ? 'database unavailable' : 'unhandled error', { path: event.path.split('?')[0], method: event.method, error: `${cause?.code ?? ''} ${String(cause?.message ?? error.message).split('\n')[0]!.slice(0, 300)}`.trim() })
  setResponseStatus(event, statusCode)
  setResponseHeader(event, 'Content-Type', 'application/json')
  setResponseHeader(event, 'Cache-Control', 'no-store')
  if (dbDown) setResponseHeader(event, 'Retry-After', DB_RETRY_SECONDS)
  const message = dbDown ? 'The database is unavailable, try again shortly' : unexpected ? 'Internal server error' : error.message
  // a stable code for the UI to translate: the thrower's own, else one named by the status
  const given = error.data && typeof error.data === 'object' && !unexpected ? error.data as Record<string, unknown> : undefined
  const reason = given?.reason ?? (dbDown ? 'database-unavailable' : reasonForStatus(statusCode))
  const data = reason ? { ...given, reason } : given
  return send(event, JSON.stringify({ statusCode, message, ...(data ? { data } : {}) }))
}

/** Not an error a route meant to answer (no status below 500, no message or data of its own). */
const isUnexpected = (error: ApiError) => (error.statusCode || 500) >= 500 && !error.statusMessage && !error.data

/** The error for a write refused by a foreign key: the caller deleted meanwhile → 401, else 409 (reload and retry). */
async function goneError(event: H3Event): Promise<ApiError> {
  const callerId = event.context.auth?.user.id
  const caller = callerId ? await useDb().select({ active: users.active }).from(users).where(eq(users.id, callerId)).limit(1).catch(() => []) : []
  const callerGone = callerId !== undefined && !caller[0]?.active
  return callerGone
    ? notSignedIn()
    : createError({ statusCode: 409, message: 'Something this request refers to was deleted meanwhile; reload and try again', data: { reason: 'conflict' } })
}
