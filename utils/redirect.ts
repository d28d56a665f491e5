/** Only same-app paths: never an absolute or protocol-relative URL from the query string. */
export function safeRedirect(value: unknown): string {
  const path = Array.isArray(value) ? value[0] : value
  if (typeof path !== 'string' || !path.startsWith('/') || path.startsWith('//') || path.startsWith('/\\')) return '/'
  if (path.startsWith('/login') || path.startsWith('/register')) return '/'
  return path
}
