import type { Rate } from './config'

interface Window { count: number, resetAt: number }

/** Fixed-window counter in the shared store. Returns seconds to wait when the limit is reached, else 0. */
export async function rateLimitWait(key: string, rate: Rate): Promise<number> {
  const w = await useKv().getItem<Window>(`rl:${key}`)
  if (!w || w.resetAt <= Date.now() || w.count < rate.max) return 0
  return Math.max(1, Math.ceil((w.resetAt - Date.now()) / 1000))
}

/** Counts one event against the limit. */
export async function rateLimitHit(key: string, rate: Rate) {
  const kv = useKv()
  const now = Date.now()
  const w = await kv.getItem<Window>(`rl:${key}`)
  const next = !w || w.resetAt <= now ? { count: 1, resetAt: now + rate.windowMs } : { count: w.count + 1, resetAt: w.resetAt }
  await kv.setItem(`rl:${key}`, next, { ttl: Math.ceil(rate.windowMs / 1000) })
}

export const rateLimitReset = (key: string) => useKv().removeItem(`rl:${key}`)

/** Gives back one counted event: an attempt counted up-front that turned out not to be a failure. */
export async function rateLimitRefund(key: string) {
  const w = await useKv().getItem<Window>(`rl:${key}`)
  const left = w ? w.resetAt - Date.now() : 0
  if (w && w.count > 0 && left > 0) await useKv().setItem(`rl:${key}`, { ...w, count: w.count - 1 }, { ttl: Math.ceil(left / 1000) })
}

/** 429 with Retry-After. */
export function tooManyRequests(event: import('h3').H3Event, seconds: number, what = 'Too many attempts') {
  setResponseHeader(event, 'Retry-After', seconds)
  logRateLimited(clientIp(event), event.path.split('?')[0]!)
  return createError({ statusCode: 429, message: `${what}, try again in ${seconds} s`, data: { retryAfter: seconds } })
}

/** Checks and counts in one step (chat): throws 429 when over. */
export async function enforceRateLimit(event: import('h3').H3Event, key: string, rate: Rate, what?: string) {
  const wait = await rateLimitWait(key, rate)
  if (wait) throw tooManyRequests(event, wait, what)
  await rateLimitHit(key, rate)
}
