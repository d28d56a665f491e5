import { and, count, eq, isNotNull, ne, sql } from 'drizzle-orm'
import type { AdminUser, AdminUsersFilter } from '#shared/admin'
import type { ApiCursorList } from '#shared/types'
import { referenceGone, useDb } from '../db/client'
import {
  apiTokens, conversations, dialect, dmHidden, dms, emailTokens, phoneCodes, recoveryCodes, reportComments, reports, type Role, sessions,
  type User, userRoles, users,
} from '../db/schema'
import { userNotFound, type Viewer, visibleUserIds } from './access'
import { checkPaging, decodeCursor, keysetPage } from './keyset'
import { userPage } from './user-pages'
import { asViewer, roleFilter, withRoles } from './roles'
import { revokeUserTokens } from './tokens'
import { assertPasswordAllowed, hashPassword } from './passwords'
import { revokeUserSessions } from './sessions'
import { createUser, findUserByEmail, findUserById, toApiUser } from './users'
import { forgetAuth } from './auth-cache'
import { groupCommit } from '../db/group-commit'

const oneDeletion = keyedQueue()


/** The users `viewer` may see, filtered and paged, each with their conversation count and last activity. */
export async function listUsersForAdmin(viewer: Viewer, filter: AdminUsersFilter): Promise<ApiCursorList<AdminUser>> {
  checkPaging(filter)
  const key = filter.cursor ? decodeCursor(filter.cursor, ['string', 'string']) as [string, string] : undefined
  // roleId: a built-in role's id is the `role` filter, a custom one's its holders (both with `role`, if given, too)
  const byRole = filter.roleId ? await roleFilter(filter.roleId) : undefined
  if (byRole && 'builtIn' in byRole && filter.role && filter.role !== byRole.builtIn) return { total: 0, data: [], nextCursor: null }
  const { roleId: _roleId, ...rest } = filter
  const { total, rows } = await userPage({
    ...rest,
    role: byRole && 'builtIn' in byRole ? byRole.builtIn : filter.role,
    customRoleId: byRole && 'customId' in byRole ? byRole.customId : undefined,
    limit: filter.limit + 1,
    visible: await visibleUserIds(viewer),
    key,
  })
  const page = keysetPage(rows, filter.limit, r => [r.sortName, r.id])
  return {
    total,
    data: page.data.map(user => toAdminUser(withRoles(user, user.extraRoles), { count: user.conversationCount, lastAt: user.lastConversationAt })),
    nextCursor: page.nextCursor,
  }
}

// the user's most recently changed conversation: the last entry of conversations(user_id, updated_at). Written
// out: drizzle drops the table names of columns in a one-table select, and `id` would then mean the inner table's
const lastConversationAt = sql`(select max(c.updated_at) from conversations c where c.user_id = "users"."id")`
  .mapWith(conversations.updatedAt)

/** Last activity is the later of the last request and the last conversation change. */
function toAdminUser(user: Parameters<typeof toApiUser>[0], stats?: { count: number, lastAt: Date | null }): AdminUser {
  const api = toApiUser(user)
  const times = [user.lastActiveAt, stats?.lastAt ? new Date(stats.lastAt) : null].filter((d): d is Date => !!d)
  const last = times.length ? new Date(Math.max(...times.map(d => d.getTime()))) : null
  return { ...api, lastActiveAt: last?.toISOString() ?? null, conversationCount: Number(stats?.count ?? 0) }
}

/** `supervisorId` must name an active supervisor or admin (not the user themself). */
async function checkSupervisor(supervisorId: string | null | undefined, userId?: string) {
  if (!supervisorId) return
  if (supervisorId === userId) throw fieldError('supervisorId', 'a user cannot supervise themself')
  const supervisor = await findUserById(supervisorId)
  if (!supervisor || supervisor.role === 'worker')
    throw fieldError('supervisorId', 'must be a supervisor or an admin')
  if (!supervisor.active) throw fieldError('supervisorId', 'must be an active user')
}

/** A readable one-time password: 16 characters from a 57-symbol alphabet (~93 bits). */
export function temporaryPassword() {
  return randomToken(24).replace(/[-_0OIl1]/g, '').slice(0, 16).padEnd(16, 'x')
}

interface NewUserInput { email: string, fullName: string, role: Role, password?: string, supervisorId?: string | null, mustChangePassword?: boolean }

/**
 * Creates a user for an admin; when no password is given one is generated and returned once. The password is
 * temporary (`mustChangePassword`) unless the admin says otherwise.
 */
export async function createUserByAdmin(input: NewUserInput) {
  if (input.password !== undefined) {
    assertPasswordAllowed('password', input.password, input.email)
  }
  await checkSupervisor(input.supervisorId)
  if (await findUserByEmail(input.email)) throw fieldError('email', 'an account with this email already exists', 409)
  const password = input.password ?? temporaryPassword()
  const user = await createUser({ ...input, password, mustChangePassword: input.mustChangePassword ?? true })
    .catch(async (error) => {
      // a concurrent create of the same email loses on the unique index
      if (await findUserByEmail(input.email)) throw fieldError('email', 'an account with this email already exists', 409)
      throw error
    })
  return { user, temporaryPassword: input.password === undefined ? password : undefined }
}

export interface UserChanges { fullName?: string, role?: Role, active?: boolean, supervisorId?: string | null }

const otherActiveAdmins = async (userId: string) => {
  const [row] = await useDb().select({ n: count() }).from(users)
    .where(and(eq(users.role, 'admin'), eq(users.active, true), ne(users.id, userId)))
  return Number(row?.n ?? 0)
}

/**
 * Applies an admin's edit with the guard rails: nobody deactivates themself or demotes themself from admin, the last active admin
 * stays, deactivating revokes every session at once. Returns the updated user and what changed.
 */
export async function updateUserByAdmin(actor: User, target: User, changes: UserChanges) {
  const losesAdmin = target.role === 'admin' && target.active
    && ((changes.role !== undefined && changes.role !== 'admin') || changes.active === false)
  if (target.id === actor.id && (losesAdmin || changes.active === false))
    throw createError({ statusCode: 403, message: 'You cannot deactivate or demote yourself' })
  if (losesAdmin && (await otherActiveAdmins(target.id)) === 0)
    throw createError({ statusCode: 409, message: 'The last active admin cannot be deactivated or demoted' })
  await checkSupervisor(changes.supervisorId, target.id)
  const diff = Object.fromEntries(Object.entries(changes)
    .filter(([key, value]) => value !== undefined && target[key as keyof UserChanges] !== value)) as UserChanges
  if (Object.keys(diff).length === 0) return { user: target, diff }
  const [user] = await useDb().update(users).set(diff).where(eq(users.id, target.id)).returning()
  if (!user) throw userNotFound() // deleted meanwhile
  if (losesAdmin && (await otherActiveAdmins(target.id)) === 0) {
    // two admins removing each other at the same moment: both checks passed, so undo ours
    const undo = Object.fromEntries(Object.keys(diff).map(key => [key, target[key as keyof UserChanges]]))
    await useDb().update(users).set(undo).where(eq(users.id, target.id))
    await forgetAuth()
    throw createError({ statusCode: 409, message: 'The last active admin cannot be deactivated or demoted' })
  }
  await forgetAuth()
  // tokens are deleted, not paused: they do not come back on reactivation
  if (diff.active === false) await Promise.all([revokeUserSessions(target.id), revokeUserTokens(target.id)])
  return { user, diff }
}

/** A new temporary password for the user (returned once, to be changed at sign-in); every session and token ends. */
export async function resetPasswordByAdmin(target: User) {
  if (target.isDemo) throw createError({ statusCode: 403, message: 'Demo accounts keep their published password' })
  const password = temporaryPassword()
  await useDb().update(users).set({ passwordHash: await hashPassword(password), mustChangePassword: true }).where(eq(users.id, target.id))
  const [revoked, revokedTokens] = await Promise.all([revokeUserSessions(target.id), revokeUserTokens(target.id)])
  return { temporaryPassword: password, revokedSessions: revoked, revokedTokens }
}

/** One user for the admin panel: the user (with extra roles and permissions) and their conversation count. */
export async function userForAdmin(user: User): Promise<AdminUser> {
  const viewer = await asViewer(user)
  const [stats] = await useDb().select({ count: users.conversationCount, lastAt: lastConversationAt })
    .from(users).where(eq(users.id, user.id))
  return toAdminUser(viewer, stats)
}

const phoneTaken = () => fieldError('phone', 'this number is verified on another account', 409)

/** 409 when `phone` is already verified on another account (the SMS channel finds people by it). */
export async function assertPhoneFree(phone: string, userId: string) {
  const [other] = await useDb().select({ id: users.id }).from(users)
    .where(and(eq(users.phone, phone), isNotNull(users.phoneVerifiedAt), ne(users.id, userId))).limit(1)
  if (other) throw phoneTaken()
}

/**
 * Stores `phone` as verified for `userId` (undefined when that user was deleted meanwhile). Another request (in this process or another) may have verified it on
 * another account since `assertPhoneFree` looked: the unique index on verified numbers refuses the write, and the
 * check run again finds that account (the same 409), as `createUser` does for an email.
 */
export async function storeVerifiedPhone(userId: string, phone: string) {
  const [user] = await useDb().update(users).set({ phone, phoneVerifiedAt: new Date() }).where(eq(users.id, userId)).returning()
    .catch(async (error: unknown) => {
      await assertPhoneFree(phone, userId)
      throw error
    })
  return user
}

/** An admin sets a verified number for the user (until the SMS channel can verify one itself). */
export async function setVerifiedPhone(target: User, phone: string) {
  await assertPhoneFree(phone, target.id)
  const user = await storeVerifiedPhone(target.id, phone)
  if (!user) throw userNotFound() // deleted meanwhile
  await forgetAuth()
  return user
}

/**
 * Deletes a user for good. Their conversations and reports move to `transferTo` (an active user) or are deleted
 * with them; sessions, tokens and codes go; messages they sent to others stay, from nobody. Nobody deletes
 * themself, and the last active admin stays.
 */
export async function deleteUserByAdmin(actor: User, target: User, transferTo?: string) {
  if (target.id === actor.id) throw createError({ statusCode: 403, message: 'You cannot delete your own account' })
  if (target.role === 'admin' && target.active && (await otherActiveAdmins(target.id)) === 0)
    throw createError({ statusCode: 409, message: 'The last active admin cannot be deleted' })
  if (transferTo !== undefined) {
    const heir = transferTo === target.id ? undefined : await findUserById(transferTo)
    if (!heir || !heir.active) throw fieldError('transferTo', 'must be another active user')
  }
  // one deletion of a user at a time in this process: a second one finds the user gone (404, as a later request)
  const counts = await oneDeletion(target.id, async () => {
    const db = useDb()
    if (!(await findUserById(target.id))) throw userNotFound()
    const [conv] = await db.select({ n: count() }).from(conversations).where(eq(conversations.userId, target.id))
    const [rep] = await db.select({ n: count() }).from(reports).where(eq(reports.reporterId, target.id))
    // one commit, no interactive transaction: on SQLite one held open across awaits freezes every other write
    // (server/db/group-commit.ts)
    await groupCommit(db => [
      // PostgreSQL: the rows of the user (and heir) locked first, in one order. Otherwise a conversation created for
      // (or moved to) the user meanwhile holds a key-share lock on the row and waits for this transaction's count
      // trigger, which waits to delete that row: a deadlock (a 500). Now that write waits, then finds the user gone.
      ...(dialect === 'pg' ? [{ text: 'select id from users where id in (?, ?) order by id for update', args: [target.id, transferTo ?? target.id] }] : []),
      ...(transferTo
        ? [
            db.update(conversations).set({ userId: transferTo }).where(eq(conversations.userId, target.id)),
            db.update(reports).set({ reporterId: transferTo }).where(eq(reports.reporterId, target.id)),
          ]
        : [
            db.delete(conversations).where(eq(conversations.userId, target.id)),
            db.delete(reports).where(eq(reports.reporterId, target.id)),
          ]),
      // explicit, not left to ON DELETE: an embedded SQLite connection may run without foreign keys
      db.update(dms).set({ senderId: null }).where(eq(dms.senderId, target.id)),
      db.update(dms).set({ recipientId: null }).where(eq(dms.recipientId, target.id)),
      db.update(reports).set({ resolvedBy: null }).where(eq(reports.resolvedBy, target.id)),
      db.update(reportComments).set({ authorId: null }).where(eq(reportComments.authorId, target.id)),
      db.update(users).set({ supervisorId: null }).where(eq(users.supervisorId, target.id)),
      ...[sessions, apiTokens, recoveryCodes, userRoles, emailTokens, phoneCodes, dmHidden].map(table => db.delete(table).where(eq(table.userId, target.id))),
      db.delete(users).where(eq(users.id, target.id)),
    ]).catch((error: unknown) => {
      // the heir was deleted since it was checked: its foreign key refuses the transfer, and nothing was deleted
      throw transferTo && referenceGone(error) ? fieldError('transferTo', 'must be another active user') : error
    })
    return { conversations: Number(conv?.n ?? 0), reports: Number(rep?.n ?? 0) }
  })
  await forgetAuth()
  return counts
}
