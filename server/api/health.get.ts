import { pingWithin } from '../db/client'

// a frozen database must not make the health check hang: answer 503 within this long
const DB_PING_MS = 1500

export default defineEventHandler(async (event) => {
  const [db, ollama] = await Promise.all([
    pingWithin(DB_PING_MS).then(() => 'ok' as const, () => 'down' as const),
    ollamaReachable(),
  ])
  if (db !== 'ok') setResponseStatus(event, 503)
  return { status: db === 'ok' ? 'ok' : 'degraded', version: useRuntimeConfig().public.version, db, ollama: ollama ? 'ok' : 'down' }
})
