import type { H3Event } from 'h3'
import type { User } from '../db/schema'
import { audit } from './audit'
import { resendVerificationLink } from './email-links'
import { mailEnabled } from './mail'
import { asViewer } from './roles'
import { verifyPassword } from './passwords'
import { startSession } from './sessions'
import { consumeSecondFactor } from './totp'
import { findUserByEmail, findUserById, retiredDemo, toApiUser, usable } from './users'

const CHALLENGE_MS = 5 * 60_000
const CHALLENGE_ATTEMPTS = 5

const accountKey = (email: string) => `login:account:${email}`
const ipKey = (event: H3Event) => `login:ip:${clientIp(event)}`

// Per-account queue: the check and the count of one attempt happen together, in this process.
const oneAtATime = keyedQueue()

/**
 * 429 while the account or the address is over its failure budget — even for the right password. Otherwise
 * the attempt is counted against both before the (slow) check: the address in one atomic step (concurrent
 * guesses for many accounts from one address cannot all pass), the account inside its queue. Attempts that
 * turn out not to be failures are given back (`refundAttempt`) or cleared by a sign-in.
 */
function takeAttempt(event: H3Event, email: string) {
  const { loginRateLimit, loginIpRateLimit } = useConfig()
  return oneAtATime(accountKey(email), async () => {
    const accountWait = await rateLimitWait(accountKey(email), loginRateLimit)
    if (accountWait) throw tooManyRequests(event, accountWait)
    const ipWait = await rateLimitTake(ipKey(event), loginIpRateLimit)
    if (ipWait) throw tooManyRequests(event, ipWait)
    await rateLimitHit(accountKey(email), loginRateLimit)
  })
}

async function refundAttempt(event: H3Event, email: string) {
  await rateLimitRefund(ipKey(event))
  await oneAtATime(accountKey(email), () => rateLimitRefund(accountKey(email)))
}

/** Lifts the account's sign-in lock-out (a password reset from the mailed link proves who is asking). */
export const clearLoginFailures = (email: string) => oneAtATime(accountKey(email), () => rateLimitReset(accountKey(email)))

/** A failed attempt: already counted against the account and the address; audited. */
async function countFailure(event: H3Event, user: User | undefined, reason: string) {
  await audit(event, 'auth.login_failed', { actorId: user?.id ?? null, targetType: 'user', targetId: user?.id ?? null, meta: { reason } })
}

async function finishLogin(event: H3Event, user: User, method: string) {
  await rateLimitReset(accountKey(user.email))
  await rateLimitRefund(ipKey(event))
  const sessionId = await startSession(event, user)
  await audit(event, 'auth.login', { actorId: user.id, targetType: 'session', targetId: sessionId, meta: { method } })
  // with extra roles: the app decides what to show from the effective permissions
  return { user: toApiUser(await asViewer(user)) }
}

const invalidCredentials = () => createError({ statusCode: 401, message: 'Invalid credentials' })

interface Credentials { email: string, password: string, totpCode?: string }

/** Password sign-in: 200 with a session, or 202 with a challenge for TOTP accounts. */
export async function login(event: H3Event, { email, password, totpCode }: Credentials) {
  await takeAttempt(event, email)
  // a demo account while demo accounts are off answers as an unknown email (checked against the dummy hash)
  const found = await findUserByEmail(email)
  const user = found && !retiredDemo(found) ? found : undefined
  if (!(await verifyPassword(user?.passwordHash, password)) || !user) {
    await countFailure(event, user, user ? 'wrong-password' : 'unknown-email')
    throw invalidCredentials()
  }
  if (!user.active) {
    await refundAttempt(event, email)
    await audit(event, 'auth.login_failed', { actorId: user.id, targetType: 'user', targetId: user.id, meta: { reason: 'disabled' } })
    throw createError({ statusCode: 403, message: 'Account disabled' })
  }
  // with email on, a self-registered account signs in only once its mailbox is confirmed
  if (!user.emailVerifiedAt && mailEnabled()) {
    await refundAttempt(event, email)
    await resendVerificationLink(user)
    // not `auth.login_failed`: the password was right, and fail2ban counts those lines against the address
    await audit(event, 'auth.login_unconfirmed', { actorId: user.id, targetType: 'user', targetId: user.id })
    throw createError({ statusCode: 403, message: 'Confirm your email first: a link was mailed to you', data: { reason: 'verify-email' } })
  }
  if (!user.totpEnabled) return { status: 200, body: await finishLogin(event, user, 'password') }
  if (totpCode) {
    if (!(await consumeSecondFactor(user, totpCode))) {
      await countFailure(event, user, 'wrong-2fa-code')
      throw createError({ statusCode: 401, message: 'Invalid code' })
    }
    return { status: 200, body: await finishLogin(event, user, 'password+2fa') }
  }
  // the password was right; the code guesses that follow are what counts
  await refundAttempt(event, email)
  const challenge = randomToken()
  await putExpiring(`2fa:${sha256(challenge)}`, { userId: user.id, attempts: 0 }, CHALLENGE_MS)
  await audit(event, 'auth.2fa_challenge', { actorId: user.id, targetType: 'user', targetId: user.id })
  return { status: 202, body: { twoFactorRequired: true as const, challenge } }
}

/** Second step: the challenge from login plus a TOTP or recovery code; one challenge opens one session. */
export function verifyChallenge(event: H3Event, challenge: string, code: string) {
  const key = `2fa:${sha256(challenge)}`
  return oneAtATime(key, () => redeemChallenge(event, key, code))
}

async function redeemChallenge(event: H3Event, key: string, code: string) {
  const pending = await getExpiring<{ userId: string, attempts: number }>(key)
  const invalid = () => createError({ statusCode: 401, message: 'Invalid or expired challenge or code' })
  if (!pending) throw invalid()
  const user = await findUserById(pending.userId)
  if (!user || !usable(user) || !user.totpEnabled) throw invalid()
  await takeAttempt(event, user.email)
  if (!(await consumeSecondFactor(user, code))) {
    await countFailure(event, user, 'wrong-2fa-code')
    if (pending.attempts + 1 >= CHALLENGE_ATTEMPTS) await useKv().removeItem(key)
    else await putExpiring(key, { ...pending, attempts: pending.attempts + 1 }, CHALLENGE_MS)
    throw invalid()
  }
  await useKv().removeItem(key)
  return finishLogin(event, user, 'password+2fa')
}
