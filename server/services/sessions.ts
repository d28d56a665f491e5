import type { H3Event } from 'h3'
import { and, desc, eq, gt, isNull, ne } from 'drizzle-orm'
import { sealData, unsealData } from 'iron-session'
import { uuidv7 } from 'uuidv7'
import { referenceGone, useDb } from '../db/client'
import { type Session, sessions, type User, users } from '../db/schema'
import type { Viewer } from './access'
import { authGeneration, cachedAuth, dropAuth, forgetAuth, rememberAuth } from './auth-cache'
import { asViewer } from './roles'
import { usable } from './users'

export const SESSION_COOKIE = 'energyapp_session'
export const SESSION_DAYS = 30
const SESSION_MS = SESSION_DAYS * 86_400_000

const outlived = (createdAt: Date, now: Date) => now.getTime() >= createdAt.getTime() + useConfig().sessionMaxDays * 86_400_000

/** 30 days from the last use, capped at SESSION_MAX_DAYS (default 90) from sign-in. */
function slidingExpiry(createdAt: Date, now: Date) {
  const cap = createdAt.getTime() + useConfig().sessionMaxDays * 86_400_000
  return new Date(Math.min(now.getTime() + SESSION_MS, cap))
}
// last_seen_at (and the sliding expiry) is written at most this often per session
const TOUCH_MS = 60_000

interface CookiePayload { token: string }

function setSessionCookie(event: H3Event, sealed: string) {
  setCookie(event, SESSION_COOKIE, sealed, {
    httpOnly: true,
    sameSite: 'lax',
    secure: useConfig().secureCookies,
    path: '/',
    maxAge: SESSION_MS / 1000,
  })
}

/** A new session row and cookie; called on every successful sign-in. */
export async function startSession(event: H3Event, user: User) {
  const token = randomToken()
  const now = new Date()
  const id = uuidv7()
  await useDb().insert(sessions).values({
    id,
    tokenHash: sha256(token),
    userId: user.id,
    ip: clientIp(event),
    userAgent: userAgent(event),
    createdAt: now,
    lastSeenAt: now,
    expiresAt: slidingExpiry(now, now),
  }).catch((error: unknown) => {
    // the account was deleted during the sign-in: the 401 a sign-in a moment later gets
    throw referenceGone(error) ? createError({ statusCode: 401, message: 'Invalid credentials' }) : error
  })
  await useDb().update(users).set({ lastActiveAt: now }).where(eq(users.id, user.id))
  // the answer to a sign-in or sign-up shows the activity it just recorded, as `/me` does a moment later
  user.lastActiveAt = now
  setSessionCookie(event, await sealData({ token } satisfies CookiePayload, { password: useConfig().sessionSecret, ttl: 0 }))
  return id
}

// Unsealing (key derivation, HMAC, decryption) costs ~0.3 ms per request; the result depends only on the
// cookie and the secret, so recent cookies are remembered. Whether the session is still live is checked in
// the database on every request all the same.
const UNSEALED_MAX = 2000
const unsealed = new Map<string, string | null>()

async function cookieToken(sealed: string): Promise<string | null> {
  const known = unsealed.get(sealed)
  if (known !== undefined) return known
  let token: string | null = null
  try {
    const payload = await unsealData<Partial<CookiePayload>>(sealed, { password: useConfig().sessionSecret, ttl: 0 })
    token = typeof payload?.token === 'string' ? payload.token : null
  }
  catch {}
  if (unsealed.size >= UNSEALED_MAX) unsealed.delete(unsealed.keys().next().value!)
  unsealed.set(sealed, token)
  return token
}

/**
 * The live session and its user (with effective permissions) named by the request's cookie, or null. Slides the
 * expiry once a minute. Recent answers come from memory (services/auth-cache.ts); expiry and the cap are checked
 * on every request all the same.
 */
export async function sessionFromCookie(event: H3Event): Promise<{ session: Session, user: Viewer } | null> {
  const sealed = getCookie(event, SESSION_COOKIE)
  if (!sealed || sealed.length > 2048) return null
  const now = new Date()
  const cached = cachedAuth(sealed)
  if (cached) {
    if (live(cached.session, cached.user, now) && !due(cached.session, now)) return cached
    dropAuth(sealed)
  }
  const since = authGeneration()
  const token = await cookieToken(sealed)
  if (!token) return null
  const [row] = await useDb().select({ session: sessions, user: users }).from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, sha256(token)), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)))
    .limit(1)
  if (!row || !live(row.session, row.user, now)) return null
  if (due(row.session, now)) {
    const expiresAt = slidingExpiry(row.session.createdAt, now)
    await useDb().update(sessions).set({ lastSeenAt: now, expiresAt, ip: clientIp(event) }).where(eq(sessions.id, row.session.id))
    await useDb().update(users).set({ lastActiveAt: now }).where(eq(users.id, row.user.id))
    Object.assign(row.session, { lastSeenAt: now, expiresAt })
    row.user.lastActiveAt = now
    setSessionCookie(event, sealed)
  }
  const found = { session: row.session, user: await asViewer(row.user) }
  rememberAuth(sealed, since, found)
  return found
}

const live = (session: Session, user: User, now: Date) =>
  usable(user) && !session.revokedAt && session.expiresAt.getTime() > now.getTime() && !outlived(session.createdAt, now)
const due = (session: Session, now: Date) => now.getTime() - session.lastSeenAt.getTime() > TOUCH_MS

export function clearSessionCookie(event: H3Event) {
  deleteCookie(event, SESSION_COOKIE, { httpOnly: true, sameSite: 'lax', secure: useConfig().secureCookies, path: '/' })
}

export const listSessions = (userId: string) => useDb().select().from(sessions)
  .where(and(eq(sessions.userId, userId), isNull(sessions.revokedAt), gt(sessions.expiresAt, new Date())))
  .orderBy(desc(sessions.lastSeenAt))

/** Revokes one of the user's sessions; false when it is not theirs or already gone. */
export async function revokeSession(userId: string, sessionId: string) {
  const revoked = await useDb().update(sessions).set({ revokedAt: new Date() })
    .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt)))
    .returning({ id: sessions.id })
  await forgetAuth()
  return revoked.length > 0
}

/** Revokes every session of a user, or every one but `keepId`. */
export async function revokeUserSessions(userId: string, keepId?: string) {
  const where = keepId
    ? and(eq(sessions.userId, userId), isNull(sessions.revokedAt), ne(sessions.id, keepId))
    : and(eq(sessions.userId, userId), isNull(sessions.revokedAt))
  const revoked = await useDb().update(sessions).set({ revokedAt: new Date() }).where(where).returning({ id: sessions.id })
  await forgetAuth()
  return revoked.length
}
