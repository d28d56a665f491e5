import type { H3Event } from 'h3'
import { and, eq, gt, isNull, lt, notExists, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import { useDb } from '../db/client'
import { emailTokens, type User, users } from '../db/schema'
import { audit } from './audit'
import { sendInBackground, verificationMail } from './mail'
import { startSession } from './sessions'
import { toApiUser } from './users'
import { forgetAuth } from './auth-cache'

export type Purpose = 'verify-email' | 'reset-password'

/** How long a mailed link works: confirmation 24 h, reset 30 min (API.md). */
const LINK_MS: Record<Purpose, number> = { 'verify-email': 86_400_000, 'reset-password': 30 * 60_000 }

export const badLink = () => fieldError('token', 'the link is invalid, expired or already used')

/** Ends the user's unused links of one purpose (a new link replaces the old; a used reset ends the rest). */
export const endLinks = (userId: string, purpose: Purpose, now = new Date()) => useDb().update(emailTokens).set({ usedAt: now })
  .where(and(eq(emailTokens.userId, userId), eq(emailTokens.purpose, purpose), isNull(emailTokens.usedAt)))

/** A new single-use link secret; only its hash is stored. */
export async function issueLink(userId: string, purpose: Purpose) {
  const token = randomToken()
  const now = new Date()
  await endLinks(userId, purpose, now)
  await useDb().insert(emailTokens).values({ id: uuidv7(), userId, purpose, tokenHash: sha256(token), expiresAt: new Date(now.getTime() + LINK_MS[purpose]), createdAt: now })
  return token
}

/** The unused, unexpired link named by `token`, with its user; undefined when there is none. */
export async function liveLink(token: string, purpose: Purpose) {
  const [row] = await useDb().select({ link: emailTokens, user: users }).from(emailTokens)
    .innerJoin(users, eq(users.id, emailTokens.userId))
    .where(and(eq(emailTokens.tokenHash, sha256(token)), eq(emailTokens.purpose, purpose), isNull(emailTokens.usedAt), gt(emailTokens.expiresAt, new Date())))
    .limit(1)
  return row
}

/** Marks a link used; false when a concurrent request used it first (each link works once). */
export async function claimLink(id: string) {
  const claimed = await useDb().update(emailTokens).set({ usedAt: new Date() })
    .where(and(eq(emailTokens.id, id), isNull(emailTokens.usedAt))).returning({ id: emailTokens.id })
  return claimed.length > 0
}

/** Mails a confirmation link to a newly registered (unconfirmed) account. */
export async function sendVerificationLink(user: User) {
  const token = await issueLink(user.id, 'verify-email')
  sendInBackground(verificationMail(user.email, user.fullName, token), 'verify-email')
}

/**
 * A sign-in with the right password on an unconfirmed account mails a fresh link (the first may be lost or
 * expired), at most FORGOT_PASSWORD_RATE_LIMIT times per address.
 */
export async function resendVerificationLink(user: User) {
  const key = `mail:verify:${user.email}`
  const rate = useConfig().forgotPasswordRateLimit
  if (await rateLimitWait(key, rate)) return
  await rateLimitHit(key, rate)
  await sendVerificationLink(user)
}

/**
 * Confirms the mailbox of an unconfirmed account and signs it in. The link is spent once the account is
 * confirmed by any means. An account with 2FA on (possible only if it signed in while email was off) is
 * confirmed but not signed in: the link must not skip the second factor.
 */
export async function confirmEmail(event: H3Event, token: string) {
  const row = await liveLink(token, 'verify-email')
  if (!row || !row.user.active || row.user.emailVerifiedAt || !(await claimLink(row.link.id))) throw badLink()
  const now = new Date()
  await useDb().update(users).set({ emailVerifiedAt: now }).where(eq(users.id, row.user.id))
  await forgetAuth()
  const user = { ...row.user, emailVerifiedAt: now }
  await audit(event, 'auth.email_verified', { actorId: user.id, targetType: 'user', targetId: user.id })
  if (user.totpEnabled) return { user: toApiUser(user), signedIn: false }
  const sessionId = await startSession(event, user)
  await audit(event, 'auth.login', { actorId: user.id, targetType: 'session', targetId: sessionId, meta: { method: 'email-link' } })
  return { user: toApiUser(user), signedIn: true }
}

/**
 * Accounts from before email confirmation existed (demo, admin-created, registered without SMTP) count as
 * confirmed. Run at start-up; an account that registered with SMTP always has a confirmation link, and the
 * minute's margin keeps a registration still between its two inserts out of it.
 */
export async function confirmEarlierAccounts() {
  const pending = useDb().select({ id: emailTokens.id }).from(emailTokens)
    .where(and(eq(emailTokens.userId, users.id), eq(emailTokens.purpose, 'verify-email')))
  await useDb().update(users).set({ emailVerifiedAt: sql`${users.createdAt}` })
    .where(and(isNull(users.emailVerifiedAt), lt(users.createdAt, new Date(Date.now() - 60_000)), notExists(pending)))
}
