import type { H3Event } from 'h3'
import { and, eq, gt, isNull, or } from 'drizzle-orm'
import { useDb } from '../db/client'
import type { Permission } from '#shared/permissions'
import { apiTokens, type User, users } from '../db/schema'
import type { Viewer } from '../services/access'
import { asViewer } from '../services/roles'
import { sessionFromCookie } from '../services/sessions'
import { usable } from '../services/users'

export interface Auth {
  /** The caller with their effective permissions (built-in role ∪ extra roles), read on this request. */
  user: Viewer
  /** The session row id when signed in with the cookie; null for a Bearer token. */
  sessionId: string | null
  tokenId: string | null
}

declare module 'h3' {
  interface H3EventContext { auth?: Auth | null }
}

const TOKEN_TOUCH_MS = 60_000

async function authFromBearer(token: string): Promise<{ user: User, sessionId: null, tokenId: string } | null> {
  if (token.length > 200) return null
  const now = new Date()
  const [row] = await useDb().select({ token: apiTokens, user: users }).from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(and(eq(apiTokens.tokenHash, sha256(token)), or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now))))
    .limit(1)
  if (!row || !usable(row.user)) return null
  if (!row.token.lastUsedAt || now.getTime() - row.token.lastUsedAt.getTime() > TOKEN_TOUCH_MS)
    await useDb().update(apiTokens).set({ lastUsedAt: now }).where(eq(apiTokens.id, row.token.id))
  return { user: row.user, sessionId: null, tokenId: row.token.id }
}

/** Who is calling (cookie or Bearer token), loaded once per request; null when nobody valid. */
export async function getAuth(event: H3Event): Promise<Auth | null> {
  if (event.context.auth !== undefined) return event.context.auth
  const header = getRequestHeader(event, 'authorization')
  let auth: Auth | null = null
  if (header?.toLowerCase().startsWith('bearer ')) {
    const found = await authFromBearer(header.slice(7).trim())
    // permissions are read on every request, so a role change takes effect at once
    if (found) auth = { ...found, user: await asViewer(found.user) }
  }
  else {
    // the cookie's session and permissions may come from memory: every change to them empties that cache at once
    const row = await sessionFromCookie(event)
    if (row) auth = { user: row.user, sessionId: row.session.id, tokenId: null }
  }
  event.context.auth = auth
  return auth
}

/** The 401 of every route without a valid sign-in (also for a caller deleted while their request ran). */
export const notSignedIn = () => createError({ statusCode: 401, message: 'Not signed in', data: { reason: 'not-signed-in' } })

/** True when REQUIRE_2FA_ROLES says this user must enrol TOTP before anything else. */
export const mustEnrol2fa = (user: User) => !user.totpEnabled && useConfig().require2faRoles.includes(user.role)

export interface HoldExceptions {
  /** The route lets a user who must still enrol 2FA through (enrolment itself, me, logout). */
  allowUnenrolled?: boolean
  /** The route lets a user with a temporary password through (me, password, logout). */
  allowPasswordHold?: boolean
}

/**
 * The signed-in user, or a 401. Users with a temporary password get a 403 (`reason: change-password`) everywhere
 * but the routes that let them change it; users who still have to enrol 2FA get a 403 (`reason: enrol-2fa`)
 * everywhere but the routes that let them enrol.
 */
export async function requireAuth(event: H3Event, opts: HoldExceptions = {}): Promise<Auth> {
  const auth = await getAuth(event)
  if (!auth) throw notSignedIn()
  if (!opts.allowPasswordHold && auth.user.mustChangePassword)
    throw createError({ statusCode: 403, message: 'Choose a new password first: this one was temporary', data: { reason: 'change-password' } })
  if (!opts.allowUnenrolled && mustEnrol2fa(auth.user))
    throw createError({ statusCode: 403, message: 'Two-factor authentication must be enabled first', data: { reason: 'enrol-2fa' } })
  return auth
}

export const requireUser = async (event: H3Event, opts?: HoldExceptions) => (await requireAuth(event, opts)).user

/** The signed-in user when they hold at least one of `anyOf`, else 403. */
export async function requirePermission(event: H3Event, ...anyOf: Permission[]): Promise<Viewer> {
  const user = await requireUser(event)
  if (!anyOf.some(p => user.permissions.includes(p)))
    throw createError({ statusCode: 403, message: `Not allowed: needs the ${anyOf.join(' or ')} permission`, data: { reason: 'permission', permissions: anyOf } })
  return user
}
