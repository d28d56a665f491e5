import type { BackendKind } from './types'

/** One entry of `OLLAMA_HOSTS`: `http://a:11434` (Ollama) or `openai+http://gpu1:8000/v1` (OpenAI-compatible). */
export interface HostEntry { kind: BackendKind, url: string }

/** Parses `OLLAMA_HOSTS` (comma-separated); empty means the single `OLLAMA_HOST`. Throws naming a bad entry. */
export function parseHosts(hosts: string | undefined, fallback: string): HostEntry[] {
  const entries = (hosts ?? '').split(',').map(s => s.trim()).filter(Boolean)
  if (!entries.length) return [{ kind: 'ollama', url: fallback.replace(/\/+$/, '') }]
  return entries.map((entry) => {
    const openai = /^openai\+/i.test(entry)
    const raw = openai ? entry.slice('openai+'.length) : entry
    let url: URL
    try { url = new URL(raw) }
    catch { throw new Error(`"${entry}" is not a URL like http://host:11434 or openai+http://host:8000/v1`) }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`"${entry}" must use http or https`)
    return { kind: openai ? 'openai' : 'ollama', url: raw.replace(/\/+$/, '') }
  })
}

/** The address without credentials, for the admin page and logs. */
export function displayUrl(url: string) {
  try {
    const u = new URL(url)
    u.username = ''
    u.password = ''
    return u.toString().replace(/\/+$/, '')
  }
  catch { return url }
}
