/**
 * Pinia stores that outlive a sign-out: who is signed in (auth), the server's public config (app), and the
 * device's offline copy and outbox, which clear the leaving user's data themselves. Every other store is reset
 * by plugins/reset-stores.ts.
 */
export const KEPT_ON_SIGN_OUT: ReadonlySet<string> = new Set(['auth', 'app', 'offline', 'outbox'])
