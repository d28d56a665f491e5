import { pingWithin } from '../db/client'
import { isDraining } from '../services/shutdown'

// a frozen database must not make the health check hang: answer 503 within this long
const DB_PING_MS = 1500

export default defineEventHandler(async (event) => {
  // stopping (SIGTERM, SHUTDOWN_DRAIN_MS): a load balancer's health check takes this process out of rotation
  // while it still serves every request (services/shutdown.ts)
  const version = useRuntimeConfig().public.version
  if (isDraining()) {
    setResponseStatus(event, 503)
    return { status: 'draining', version }
  }
  // `?lb`: the load balancer's check (Caddyfile, every second) asks only "may I send here?": no database ping, so a
  // slow or down database neither makes the check time out on a busy machine nor takes every process out at once
  if ('lb' in getQuery(event)) return { status: 'ok', version }
  const [db, ollama] = await Promise.all([
    pingWithin(DB_PING_MS).then(() => 'ok' as const, () => 'down' as const),
    ollamaReachable(),
  ])
  if (db !== 'ok') setResponseStatus(event, 503)
  return { status: db === 'ok' ? 'ok' : 'degraded', version, db, ollama: ollama ? 'ok' : 'down' }
})
