import type { NitroErrorHandler } from 'nitropack'

/**
 * API errors answer `{statusCode, message, data}` (API.md); unexpected errors are logged and answer a bare
 * 500 with no internals. Pages fall back to the SPA shell.
 */
export default <NitroErrorHandler> function (error, event) {
  const statusCode = error.statusCode || 500
  const unexpected = statusCode >= 500 && !error.statusMessage && !error.data
  if (unexpected) log.error('unhandled error', { path: event.path.split('?')[0], method: event.method, error: String(error.cause ?? error.message) })
  setResponseStatus(event, statusCode)
  setResponseHeader(event, 'Content-Type', 'application/json')
  setResponseHeader(event, 'Cache-Control', 'no-store')
  const message = unexpected ? 'Internal server error' : error.message
  return send(event, JSON.stringify({ statusCode, message, ...(error.data ? { data: error.data } : {}) }))
}
