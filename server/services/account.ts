import { randomInt } from 'node:crypto'
import { and, desc, eq, isNull, lt, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import { readPreferences } from '#shared/account'
import type { ProfileBody } from '#shared/account'
import type * as v from 'valibot'
import { useDb } from '../db/client'
import { phoneCodes, type User, users } from '../db/schema'
import { assertPhoneFree, storeVerifiedPhone } from './admin-users'
import { sendSms } from './sms'
import { forgetAuth } from './auth-cache'

/** The signed-in user's own changes: profile, preferences, phone number. */

/** Applies a profile change; preferences merge into the stored ones. Returns the updated row and the changed keys. */
export async function updateProfile(user: User, changes: v.InferOutput<typeof ProfileBody>) {
  const set: Partial<User> = {}
  if (changes.fullName !== undefined && changes.fullName !== user.fullName) set.fullName = changes.fullName
  if (changes.bio !== undefined && changes.bio !== (user.bio ?? '')) set.bio = changes.bio
  if (changes.preferences) set.preferences = { ...readPreferences(user.preferences), ...changes.preferences }
  if (!Object.keys(set).length) return { user, changed: [] as string[] }
  const [updated] = await useDb().update(users).set(set).where(eq(users.id, user.id)).returning()
  if (!updated) throw notSignedIn() // the account was deleted while this request ran
  await forgetAuth()
  return { user: updated, changed: Object.keys(set) }
}

// keyed with the server secret: a leaked table alone does not give the codes away
const codeHash = (userId: string, code: string) => sha256(`${useConfig().sessionSecret}:phone:${userId}:${code}`)
const CODE_TTL_MS = 10 * 60_000
const MAX_TRIES = 5

/**
 * Starts verifying `phone`: a 6-digit code (kept hashed) sent by SMS. 409 while no SMS channel is configured, or
 * when the number is verified on another account. The number is not the user's until the code comes back.
 */
export async function startPhoneVerification(user: User, phone: string) {
  await assertPhoneFree(phone, user.id)
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0')
  const result = await sendSms(phone, `Tu código de EnergyApp: ${code}`)
  if (!result.sent && result.reason === 'not-configured')
    throw fieldError('phone', 'SMS is not configured on this server; ask an administrator to set your number', 409, { reason: 'sms-not-configured' })
  if (!result.sent)
    throw fieldError('phone', 'the code could not be sent by SMS right now; try again in a minute', 503, { reason: 'sms-failed' })
  const db = useDb()
  // one pending attempt per user: a new number replaces the old attempt
  await db.update(phoneCodes).set({ usedAt: new Date() }).where(and(eq(phoneCodes.userId, user.id), isNull(phoneCodes.usedAt)))
  await db.insert(phoneCodes).values({ id: uuidv7(), userId: user.id, phone, codeHash: codeHash(user.id, code), expiresAt: new Date(Date.now() + CODE_TTL_MS), createdAt: new Date() })
}

const wrongCode = (problem: string) => fieldError('code', problem)

/** Checks the code of the pending attempt; 5 wrong codes or 10 minutes end it. On success the number is verified. */
export async function confirmPhoneCode(user: User, code: string) {
  const db = useDb()
  const [pending] = await db.select().from(phoneCodes)
    .where(and(eq(phoneCodes.userId, user.id), isNull(phoneCodes.usedAt))).orderBy(desc(phoneCodes.createdAt)).limit(1)
  const gone = () => wrongCode('no code is pending (it expired or was tried too often); ask for a new one')
  if (!pending || pending.expiresAt.getTime() < Date.now() || pending.attempts >= MAX_TRIES) throw gone()
  // every try is counted before the code is compared, in one statement: tries sent at once cannot all read the same
  // count and get past the limit
  const [tried] = await db.update(phoneCodes).set({ attempts: sql`${phoneCodes.attempts} + 1` })
    .where(and(eq(phoneCodes.id, pending.id), isNull(phoneCodes.usedAt), lt(phoneCodes.attempts, MAX_TRIES)))
    .returning({ attempts: phoneCodes.attempts })
  if (!tried) throw gone()
  if (!safeEqual(pending.codeHash, codeHash(user.id, code))) {
    const last = tried.attempts >= MAX_TRIES
    if (last) await db.update(phoneCodes).set({ usedAt: new Date() }).where(eq(phoneCodes.id, pending.id))
    throw wrongCode(last ? 'is wrong; too many tries, ask for a new code' : 'is wrong')
  }
  await assertPhoneFree(pending.phone, user.id)
  const updated = await storeVerifiedPhone(user.id, pending.phone)
  if (!updated) throw notSignedIn() // the account was deleted while this request ran
  await db.update(phoneCodes).set({ usedAt: new Date() }).where(eq(phoneCodes.id, pending.id))
  await forgetAuth()
  return updated
}

/** Forgets the user's number and any pending attempt. */
export async function removePhone(user: User) {
  const db = useDb()
  await db.update(phoneCodes).set({ usedAt: new Date() }).where(and(eq(phoneCodes.userId, user.id), isNull(phoneCodes.usedAt)))
  await db.update(users).set({ phone: null, phoneVerifiedAt: null }).where(eq(users.id, user.id))
  await forgetAuth()
}
