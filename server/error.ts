import type { NitroErrorHandler } from 'nitropack'
import { reasonForStatus } from '#shared/errors'
import { databaseUnavailable, rootCause } from './db/client'

const DB_RETRY_SECONDS = 5

/**
 * API errors answer `{statusCode, message, data}` (API.md); a database that cannot be reached answers 503 with
 * Retry-After; other unexpected errors are logged and answer a bare 500 with no internals. Pages fall back to the
 * SPA shell.
 */
export default <NitroErrorHandler> function (error, event) {
  let statusCode = error.statusCode || 500
  const unexpected = statusCode >= 500 && !error.statusMessage && !error.data
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
