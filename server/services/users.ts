import { eq } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import { readPreferences } from '#shared/account'
import { effectivePermissions } from '#shared/permissions'
import type { ApiUser } from '#shared/types'
import type { AppConfig } from '../utils/config'
import { useDb } from '../db/client'
import { type Role, type User, users } from '../db/schema'
import type { Viewer } from './access'
import { hashPassword } from './passwords'
import { forgetAuth } from './auth-cache'

/**
 * The only shape of a user that leaves the server: never a hash or a secret. Pass a viewer (or a user
 * through `withRoles`) to include extra roles; a bare row shows its built-in role's permissions.
 */
/** The columns `user` (API.md) is made of. */
export type ApiUserColumns = Pick<User, 'id' | 'email' | 'fullName' | 'role' | 'active' | 'supervisorId' | 'totpEnabled' | 'isDemo' | 'phone'
  | 'phoneVerifiedAt' | 'bio' | 'preferences' | 'mustChangePassword' | 'createdAt' | 'lastActiveAt'>

export function toApiUser(user: ApiUserColumns & Partial<Pick<Viewer, 'permissions' | 'roleNames'>>): ApiUser {
  const { require2faRoles } = useConfig()
  return {
    id: user.id,
    email: user.email,
    fullName: user.fullName,
    role: user.role,
    roles: [...(user.roleNames ?? [])],
    permissions: [...(user.permissions ?? (user.active ? effectivePermissions(user.role) : []))],
    phone: user.phone ?? null,
    phoneVerified: !!user.phone && !!user.phoneVerifiedAt,
    bio: user.bio ?? '',
    preferences: readPreferences(user.preferences),
    mustChangePassword: user.mustChangePassword,
    active: user.active,
    totpEnabled: user.totpEnabled,
    supervisorId: user.supervisorId ?? null,
    createdAt: user.createdAt.toISOString(),
    lastActiveAt: user.lastActiveAt?.toISOString() ?? null,
    mustEnrol2fa: !user.totpEnabled && require2faRoles.includes(user.role),
    isDemo: user.isDemo,
  }
}

/**
 * A demo account (published password) while `DEMO_ACCOUNTS` is off: it may have been seeded by an earlier start, but
 * it neither signs in nor keeps its sessions and tokens (API.md "Demo accounts (when enabled)").
 */
export const retiredDemo = (user: Pick<User, 'isDemo'>) => user.isDemo && !useConfig().demoAccounts

/** Whether the account may be used now: active, and not a demo account while demo accounts are off. */
export const usable = (user: Pick<User, 'active' | 'isDemo'>) => user.active && !retiredDemo(user)

export async function findUserByEmail(email: string) {
  const [user] = await useDb().select().from(users).where(eq(users.email, email.trim().toLowerCase())).limit(1)
  return user
}

export async function findUserById(id: string) {
  const [user] = await useDb().select().from(users).where(eq(users.id, id)).limit(1)
  return user
}

interface NewUser {
  email: string, password: string, fullName: string, role: Role, supervisorId?: string | null, isDemo?: boolean, mustChangePassword?: boolean
  /** false only for a self-registration that must confirm its mailbox; everyone else counts as confirmed. */
  emailVerified?: boolean
}

export const emailTaken = () => fieldError('email', 'an account with this email already exists', 409)

/** Inserts a user; 409 when the email exists (also when a concurrent request wins the unique index). */
export async function createUser(input: NewUser) {
  const email = input.email.trim().toLowerCase()
  const now = new Date()
  const [user] = await useDb().insert(users).values({
    id: uuidv7(),
    email,
    passwordHash: await hashPassword(input.password),
    fullName: input.fullName,
    role: input.role,
    supervisorId: input.supervisorId ?? null,
    isDemo: input.isDemo ?? false,
    emailVerifiedAt: input.emailVerified === false ? null : now,
    mustChangePassword: input.mustChangePassword ?? false,
    createdAt: now,
  }).returning().catch(async (error: unknown) => {
    if (await findUserByEmail(email)) throw emailTaken()
    throw error
  })
  return user!
}

/** The user's own new password: a temporary one is no longer pending. */
export async function setPassword(userId: string, password: string) {
  const changed = await useDb().update(users).set({ passwordHash: await hashPassword(password), mustChangePassword: false })
    .where(eq(users.id, userId)).returning({ id: users.id })
  if (!changed.length) throw notSignedIn() // the account was deleted while this request ran: nothing was changed
  await forgetAuth()
}

export const emailDomain = (email: string) => email.split('@').pop()!.toLowerCase()

/** Empty policy list = everyone may; otherwise only the listed email domains. */
export const domainAllowed = (list: string[], email: string) => list.length === 0 || list.includes(emailDomain(email))

/**
 * 403 when TOTP_SELF_SERVICE_DOMAINS keeps this user from managing their own 2FA. Required enrolment wins: a
 * user REQUIRE_2FA_ROLES obliges to enrol may always set it up (else they would be locked out).
 */
export function assertTotpSelfService(user: User, action: 'enrol' | 'disable' = 'enrol') {
  if (action === 'enrol' && !user.totpEnabled && useConfig().require2faRoles.includes(user.role)) return
  if (!domainAllowed(useConfig().totpSelfServiceDomains, user.email))
    throw createError({ statusCode: 403, message: 'Two-factor settings are managed by your administrator' })
}

/** What the 2FA settings add up to, said once at start-up (REQUIRE_2FA_ROLES wins over TOTP_SELF_SERVICE_DOMAINS). */
export function twoFactorPolicy(config: Pick<AppConfig, 'require2faRoles' | 'totpSelfServiceDomains'>) {
  const selfService = config.totpSelfServiceDomains.length ? config.totpSelfServiceDomains : 'all'
  const conflict = config.require2faRoles.length > 0 && config.totpSelfServiceDomains.length > 0
  return {
    required: config.require2faRoles,
    selfService,
    decision: conflict
      ? `users with role ${config.require2faRoles.join(', ')} must enrol and may set up 2FA whatever their email domain (REQUIRE_2FA_ROLES wins over TOTP_SELF_SERVICE_DOMAINS)`
      : config.require2faRoles.length ? `users with role ${config.require2faRoles.join(', ')} must enrol 2FA` : '2FA is optional',
  }
}
