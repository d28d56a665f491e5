import type { H3Event } from 'h3'
import type { ErrorReason } from '#shared/errors'
import { charCount } from '#shared/text'
import { hash, verify } from '@node-rs/argon2'
import type { User } from '../db/schema'
import { audit } from './audit'

// OWASP argon2id parameters (m=19456 KiB, t=2, p=1); algorithm 2 = Argon2id.
const options = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const

export const hashPassword = (password: string) => hash(password, options)

// Verifying against this when the email is unknown keeps both failures equally slow.
let dummyHash: Promise<string> | undefined

export async function verifyPassword(passwordHash: string | null | undefined, password: string) {
  const target = passwordHash ?? await (dummyHash ??= hash('energyapp-timing-equaliser', options))
  try { return (await verify(target, password)) && !!passwordHash }
  catch { return false }
}

// A short list of the most used passwords (and their Spanish favourites); long enough to stop the obvious ones.
const common = new Set(`123456 password 123456789 12345678 12345 1234567 qwerty 1234567890 111111 123123 abc123 password1
iloveyou 000000 qwerty123 1q2w3e4r 1qaz2wsx qwertyuiop 654321 123321 666666 987654321 admin admin123 administrator
welcome welcome1 letmein monkey dragon football baseball sunshine princess master shadow superman trustno1
passw0rd password123 password12 changeme secret 123qwe zxcvbnm asdfghjkl 11111111 00000000 12341234 88888888
contraseña contrasena contraseña1 contrasena1 contrasena123 123456789a 1234567890a teamo teamo123 hola1234 holamundo
chile chile123 chile1234 santiago santiago1 colocolo colocolo1 energyapp energyapp1 energia123 energia1234
qwerty12345 qwertyuiop1 azerty abcdef123 abcd1234 a1b2c3d4e5 aa123456 1234qwer q1w2e3r4t5 zaq12wsx
worker1234 supervisor supervisor123 trabajador trabajador1 usuario usuario123 bienvenido bienvenido1
0123456789 0987654321 9876543210 1234567891 12345678910 1234567899 123456789123 1234512345 1234554321 1122334455
1212121212 123123123123 1q2w3e4r5t 1q2w3e4r5t6y 1qaz2wsx3edc 1qazxsw23edc qazwsxedcrfv abcdefghij
abcdefghijk abc1234567 iloveyou123 starwars12 whatever12 freedom123 computer12 internet12 pokemon123 batman1234
password1234 password12345 qwerty1234 qwerty12345 iloveyou12 admin12345 welcome123 contraseña123 contrasena1234`.split(/\s+/))

/** The rules a new password must pass: each one's stable code (`data.reason`, which the UI words) and its message. */
const RULES = {
  'password-too-short': 'must be at least 10 characters',
  'password-common': 'is too common',
  'password-has-email': 'must not contain your email',
  'password-repetitive': 'needs more different characters',
} as const satisfies Partial<Record<ErrorReason, string>>

/** Which rule a new password breaks, or null when it is acceptable. */
export function passwordProblem(password: string, email?: string): keyof typeof RULES | null {
  if (charCount(password) < 10) return 'password-too-short'
  const lower = password.toLowerCase()
  if (common.has(lower)) return 'password-common'
  const local = email?.split('@')[0]?.toLowerCase()
  if (local && local.length >= 4 && lower.includes(local)) return 'password-has-email'
  if (new Set(lower).size < 4) return 'password-repetitive'
  return null
}

/** Throws the 400 naming `field` and the rule it broke when `password` may not be used for the account `email`. */
export function assertPasswordAllowed(field: string, password: string, email?: string) {
  const reason = passwordProblem(password, email)
  if (reason) throw fieldError(field, RULES[reason], 400, { reason })
}

/**
 * Re-checks a signed-in user's password before a sensitive change: 401 naming `field` when wrong, and 429 once
 * the misses reach the per-account login budget, so a stolen session cannot be used to guess the password.
 */
export async function confirmPassword(event: H3Event, user: User, password: string, field = 'password') {
  const key = `confirm:${user.id}`
  const rate = useConfig().loginRateLimit
  // counted before the slow check, atomically, so concurrent guesses cannot all pass; a right password gives it back
  const wait = await rateLimitTake(key, rate)
  if (wait) throw tooManyRequests(event, wait)
  if (await verifyPassword(user.passwordHash, password)) return rateLimitRefund(key)
  await audit(event, 'auth.password_confirm_failed', { targetType: 'user', targetId: user.id, meta: { field, path: event.path } })
  throw fieldError(field, 'is wrong', 401)
}
