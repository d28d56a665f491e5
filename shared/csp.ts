import { createHash } from 'node:crypto'

const INLINE_SCRIPT = /<script(?![^>]*\bsrc=)(?![^>]*type="application\/json")[^>]*>([\s\S]*?)<\/script>/g

/** CSP hashes of the inline scripts in a page (the SPA shell has one small boot script). */
export function inlineScriptHashes(html: string): string[] {
  return [...html.matchAll(INLINE_SCRIPT)]
    .filter(([, body]) => body)
    .map(([, body]) => `sha256-${createHash('sha256').update(body!).digest('base64')}`)
}

/** The Content-Security-Policy of the app's pages: no inline script except the hashed boot script. */
export function pagePolicy(scriptHashes: string[]) {
  return [
    `default-src 'self'`,
    `script-src 'self'${scriptHashes.map(h => ` '${h}'`).join('')}`,
    `style-src 'self' 'unsafe-inline'`,
    `img-src 'self' data: blob:`,
    `font-src 'self' data:`,
    `connect-src 'self'`,
    `worker-src 'self'`,
    `manifest-src 'self'`,
    `object-src 'none'`,
    `base-uri 'self'`,
    `form-action 'self'`,
    `frame-ancestors 'none'`,
  ].join('; ')
}

export const API_POLICY = `default-src 'none'; frame-ancestors 'none'`

/** Headers every response carries, static files included (set by the `/**` route rule and the security middleware). */
export const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'strict-origin-when-cross-origin',
  'X-Frame-Options': 'DENY',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=(), payment=()',
  'Cross-Origin-Opener-Policy': 'same-origin',
} as const
