import { inlineScriptHashes as hashesIn } from '#shared/csp'

/** Rendered pages get a CSP that lists their own inline boot script by hash (never 'unsafe-inline'). */
export default defineNitroPlugin((nitroApp) => {
  if (import.meta.prerender) return
  nitroApp.hooks.hook('render:response', (response) => {
    if (typeof response.body !== 'string') return
    for (const hash of hashesIn(response.body)) if (!inlineScriptHashes.includes(hash)) inlineScriptHashes.push(hash)
    response.headers ??= {}
    response.headers['content-security-policy'] = contentSecurityPolicy(false)
  })
})
