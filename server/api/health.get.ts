import { useConnection } from '../db/client'

export default defineEventHandler(async (event) => {
  const [db, ollama] = await Promise.all([
    useConnection().ping().then(() => 'ok' as const, () => 'down' as const),
    ollamaReachable(),
  ])
  if (db !== 'ok') setResponseStatus(event, 503)
  return { status: db === 'ok' ? 'ok' : 'degraded', version: useRuntimeConfig().public.version, db, ollama: ollama ? 'ok' : 'down' }
})
