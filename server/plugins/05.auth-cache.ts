import { startAuthCache } from '../services/auth-cache'

/** The sign-in cache's invalidation channel (REDIS_URL) is subscribed before the first request. */
export default defineNitroPlugin(() => {
  if (import.meta.prerender) return
  startAuthCache()
})
