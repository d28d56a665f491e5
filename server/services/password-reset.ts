import type { H3Event } from 'h3'
import { eq } from 'drizzle-orm'
import { useDb } from '../db/client'
import { apiTokens, type User, users } from '../db/schema'
import { audit } from './audit'
import { badLink, claimLink, endLinks, issueLink, liveLink } from './email-links'
import { clearLoginFailures } from './login'
import { resetMail, sendInBackground } from './mail'
import { assertPasswordAllowed, hashPassword } from './passwords'
import { revokeUserSessions } from './sessions'
import { domainAllowed, findUserByEmail } from './users'

// a placeholder user id for unknown emails: the same queries run, and match nothing
const NOBODY = '00000000-0000-7000-8000-000000000000'

/** Whether the user may set their own password (demo accounts and PASSWORD_CHANGE_DOMAINS say no). */
const selfServicePassword = (user: User) => !user.isDemo && domainAllowed(useConfig().passwordChangeDomains, user.email)

/**
 * Forgotten password: 429 over the per-address or per-email budget, else a reset link for a known, active
 * account that may set its own password. Unknown emails cost the same work (a token hashed, one update, one
 * audit row) and the mail leaves after the answer, so the answer says nothing about the address.
 */
export async function requestPasswordReset(event: H3Event, email: string) {
  const config = useConfig()
  await enforceRateLimit(event, `forgot:ip:${clientIp(event)}`, config.loginIpRateLimit)
  await enforceRateLimit(event, `forgot:email:${email}`, config.forgotPasswordRateLimit)
  const found = await findUserByEmail(email)
  const user = found?.active && selfServicePassword(found) ? found : undefined
  if (user) {
    const token = await issueLink(user.id, 'reset-password')
    sendInBackground(resetMail(user.email, user.fullName, token), 'reset-password')
  }
  else {
    sha256(randomToken())
    await endLinks(NOBODY, 'reset-password')
  }
  await audit(event, 'auth.password_reset_requested', { actorId: null, targetType: 'user', targetId: found?.id ?? null, meta: { sent: !!user } })
}

/**
 * Sets a new password from a reset link: 400 naming `token` (invalid, expired, used) or `newPassword` (the
 * password policy; the link stays usable). Every session and API token of the user ends; the mailbox is
 * proven, so an unconfirmed account becomes confirmed; the sign-in lock-out of the account is lifted.
 */
export async function resetPassword(event: H3Event, token: string, newPassword: string) {
  const row = await liveLink(token, 'reset-password')
  if (!row || !row.user.active || !selfServicePassword(row.user)) throw badLink()
  assertPasswordAllowed('newPassword', newPassword, row.user.email)
  if (!(await claimLink(row.link.id))) throw badLink()
  const { user } = row
  const now = new Date()
  await useDb().update(users).set({ passwordHash: await hashPassword(newPassword), emailVerifiedAt: user.emailVerifiedAt ?? now, mustChangePassword: false })
    .where(eq(users.id, user.id))
  await endLinks(user.id, 'reset-password', now)
  await endLinks(user.id, 'verify-email', now)
  const revokedSessions = await revokeUserSessions(user.id)
  const revokedTokens = (await useDb().delete(apiTokens).where(eq(apiTokens.userId, user.id)).returning({ id: apiTokens.id })).length
  await clearLoginFailures(user.email)
  await audit(event, 'auth.password_reset', { actorId: user.id, targetType: 'user', targetId: user.id, meta: { revokedSessions, revokedTokens } })
}
