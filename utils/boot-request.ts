/**
 * The session check the HTML shell started before the app's script had loaded (an inline script in the head, from
 * nuxt.config.ts app.head): resolves to the Response, or null when there was no network. Taken once: the
 * page's first `me()` reads it through `api.adopt`, every later check asks the server itself.
 */
export function takeBootSession(): Promise<Response | null> | null {
  const started = window.__energyappSession ?? null
  delete window.__energyappSession
  return started
}

declare global {
  interface Window { __energyappSession?: Promise<Response | null> }
}
