import { SECURITY_HEADERS } from '#shared/csp'
// Security headers on every response, and the CSRF origin check on every state-changing API request.
const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

export default defineEventHandler((event) => {
  setResponseHeaders(event, {
    ...SECURITY_HEADERS,
    'Content-Security-Policy': contentSecurityPolicy(event.path.startsWith('/api/')),
  })
  if (!event.path.startsWith('/api/')) return
  setResponseHeader(event, 'Cache-Control', 'no-store')
  if (UNSAFE.has(event.method) && !originAllowed(event))
    throw createError({ statusCode: 403, message: 'Cross-site request refused (Origin does not match)', data: { reason: 'cross-site' } })
})
