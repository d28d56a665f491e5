import { OfflineKeyQuery } from '#shared/offline'
import { offlineKeyFor } from '../../services/offline-key'

// the wrapping key for this device's offline cache: signed-in sessions only (an API token has no device cache)
export default defineEventHandler(async (event) => {
  const auth = await requireAuth(event)
  if (!auth.sessionId) throw createError({ statusCode: 403, message: 'Only a signed-in browser session gets an offline key', data: { reason: 'session-only' } })
  const { device } = await validQuery(event, OfflineKeyQuery)
  setResponseHeader(event, 'cache-control', 'no-store')
  return offlineKeyFor(auth.user.id, device)
})
