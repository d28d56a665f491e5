import type { H3Event } from 'h3'
import { API_POLICY, pagePolicy } from '#shared/csp'

/**
 * A request without Origin (curl, scripts) is allowed; with one, it must be the app's public origin.
 * Outside production the origin the browser actually used (its Host) is accepted too, for 127.0.0.1 vs localhost.
 */
export function originAllowed(event: H3Event) {
  const origin = getRequestHeader(event, 'origin')
  if (!origin) return true
  const config = useConfig()
  if (origin === config.publicOrigin) return true
  if (config.production) return false
  const host = getRequestHeader(event, 'host')
  return !!host && (origin === `http://${host}` || origin === `https://${host}`)
}

// Hashes of the shell's inline boot script: found at build time (nuxt.config.ts) and on rendered pages.
export const inlineScriptHashes: string[] = []

export function contentSecurityPolicy(api: boolean) {
  if (!inlineScriptHashes.length) inlineScriptHashes.push(...String(useRuntimeConfig().cspScriptHashes || '').split(' ').filter(Boolean))
  return api ? API_POLICY : pagePolicy(inlineScriptHashes)
}
