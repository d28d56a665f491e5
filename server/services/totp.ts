import { randomInt } from 'node:crypto'
import { and, eq, isNull, lt, or } from 'drizzle-orm'
import { generateSecret, generateURI, verify } from 'otplib'
import QRCode from 'qrcode'
import { uuidv7 } from 'uuidv7'
import { useDb } from '../db/client'
import { recoveryCodes, type User, users } from '../db/schema'
import { forgetAuth } from './auth-cache'

const ISSUER = 'EnergyApp'

/** A new (not yet active) TOTP secret for the user, stored encrypted; returns what the user needs to enrol. */
export async function beginTotpSetup(user: User) {
  const secret = generateSecret()
  const stored = await useDb().update(users).set({ totpSecret: encryptSecret(secret, useConfig().sessionSecret), totpEnabled: false, totpLastStep: null })
    .where(eq(users.id, user.id)).returning({ id: users.id })
  if (!stored.length) throw notSignedIn() // the account was deleted while this request ran: nothing was enrolled
  await forgetAuth()
  const otpauthUrl = generateURI({ issuer: ISSUER, label: user.email, secret })
  const qrSvg = await QRCode.toString(otpauthUrl, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' })
  return { secret, otpauthUrl, qrSvg }
}

const secretOf = (user: User) => user.totpSecret ? decryptSecret(user.totpSecret, useConfig().sessionSecret) : null

/** The time step a 6-digit TOTP code (±1 step) matches, later than the last one used; null when it matches none. */
async function matchedStep(user: User, code: string): Promise<number | null> {
  const secret = secretOf(user)
  if (!secret || !/^\d{6}$/.test(code)) return null
  let result
  try { result = await verify({ secret, token: code, epochTolerance: 30, afterTimeStep: user.totpLastStep ?? undefined }) }
  catch { return null }
  if (!result.valid) return null
  // the functional API's result type also covers HOTP; for TOTP it carries the matched time step
  return 'timeStep' in result ? result.timeStep : Math.floor(Date.now() / 30_000) + result.delta
}

/**
 * Checks a code without using it up: enrolment proves the authenticator app works, it signs nobody in. The code
 * shown then still signs in (or turns 2FA off) once, so a sign-in right after enrolling needs no wait for the next
 * code.
 */
export const checkTotp = async (user: User, code: string) => (await matchedStep(user, code)) !== null

/**
 * Checks a 6-digit TOTP code (±1 step) and burns its time step, so the same code is accepted once only —
 * also under concurrent requests (the conditional update is the arbiter).
 */
async function consumeTotp(user: User, code: string): Promise<boolean> {
  const step = await matchedStep(user, code)
  if (step === null) return false
  const burnt = await useDb().update(users).set({ totpLastStep: step })
    .where(and(eq(users.id, user.id), or(isNull(users.totpLastStep), lt(users.totpLastStep, step))))
    .returning({ id: users.id })
  if (burnt.length) await forgetAuth()
  return burnt.length === 1
}

const normaliseRecovery = (code: string) => code.replace(/[\s-]/g, '').toLowerCase()

/** Uses one of the user's unused recovery codes. */
export async function consumeRecoveryCode(user: User, code: string): Promise<boolean> {
  const used = await useDb().update(recoveryCodes).set({ usedAt: new Date() })
    .where(and(eq(recoveryCodes.userId, user.id), eq(recoveryCodes.codeHash, sha256(normaliseRecovery(code))), isNull(recoveryCodes.usedAt)))
    .returning({ id: recoveryCodes.id })
  return used.length === 1
}

/** A TOTP code or a recovery code, whichever the user typed. */
export const consumeSecondFactor = (user: User, code: string) =>
  /^\d{6}$/.test(code.trim()) ? consumeTotp(user, code.trim()) : consumeRecoveryCode(user, code)

const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789'

function recoveryCode() {
  const chars = Array.from({ length: 10 }, () => ALPHABET[randomInt(ALPHABET.length)]).join('')
  return `${chars.slice(0, 5)}-${chars.slice(5)}`
}

/** Activates TOTP after the first good code and issues 10 fresh recovery codes (returned once, stored hashed). */
export async function enableTotp(user: User) {
  const codes = Array.from({ length: 10 }, recoveryCode)
  const db = useDb()
  await db.delete(recoveryCodes).where(eq(recoveryCodes.userId, user.id))
  await db.insert(recoveryCodes).values(codes.map(code => ({ id: uuidv7(), userId: user.id, codeHash: sha256(normaliseRecovery(code)), createdAt: new Date() })))
  await db.update(users).set({ totpEnabled: true }).where(eq(users.id, user.id))
  await forgetAuth()
  return codes
}

export async function disableTotp(userId: string) {
  const db = useDb()
  await db.update(users).set({ totpEnabled: false, totpSecret: null, totpLastStep: null }).where(eq(users.id, userId))
  await db.delete(recoveryCodes).where(eq(recoveryCodes.userId, userId))
  await forgetAuth()
}
