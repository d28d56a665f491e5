import { and, asc, count, eq, inArray, max, ne, or, type SQL, sql } from 'drizzle-orm'
import type { AdminUser, AdminUsersFilter } from '#shared/admin'
import { useDb } from '../db/client'
import { conversations, type Role, type User, users } from '../db/schema'
import { scopeFilter, type Viewer } from './access'
import { hashPassword, passwordProblem } from './passwords'
import { revokeUserSessions } from './sessions'
import { createUser, findUserByEmail, findUserById, toApiUser } from './users'

const badRequest = (field: string, problem: string) =>
  createError({ statusCode: 400, message: `${field}: ${problem}`, data: { fields: { [field]: problem } } })

/** `%`, `_` and `\` typed by the user match themselves in LIKE. */
const likePattern = (text: string) => `%${text.toLowerCase().replace(/[\\%_]/g, c => `\\${c}`)}%`

/** The users `viewer` may see, filtered and paged, each with their conversation count and last activity. */
export async function listUsersForAdmin(viewer: Viewer, filter: AdminUsersFilter): Promise<{ total: number, data: AdminUser[] }> {
  const conditions: Array<SQL | undefined> = [await scopeFilter(viewer, users.id)]
  if (filter.q) {
    const pattern = likePattern(filter.q)
    conditions.push(or(sql`lower(${users.email}) like ${pattern} escape '\\'`, sql`lower(${users.fullName}) like ${pattern} escape '\\'`))
  }
  if (filter.role) conditions.push(eq(users.role, filter.role))
  if (filter.active !== undefined) conditions.push(eq(users.active, filter.active))
  if (filter.supervisorId) conditions.push(eq(users.supervisorId, filter.supervisorId))
  const where = and(...conditions)
  const db = useDb()
  const [[counted], rows] = await Promise.all([
    db.select({ total: count() }).from(users).where(where),
    db.select().from(users).where(where).orderBy(asc(sql`lower(${users.fullName})`), asc(users.id)).limit(filter.limit).offset(filter.offset),
  ])
  // counted for this page only: an index range per user on conversations(user_id, updated_at)
  const stats = rows.length
    ? await db.select({ userId: conversations.userId, count: count(), lastAt: max(conversations.updatedAt) })
      .from(conversations).where(inArray(conversations.userId, rows.map(u => u.id))).groupBy(conversations.userId)
    : []
  const byUser = new Map(stats.map(s => [s.userId, s]))
  return { total: Number(counted?.total ?? 0), data: rows.map(user => toAdminUser(user, byUser.get(user.id))) }
}

/** Last activity is the later of the last request and the last conversation change. */
function toAdminUser(user: User, stats?: { count: number, lastAt: Date | null }): AdminUser {
  const api = toApiUser(user)
  const times = [user.lastActiveAt, stats?.lastAt ? new Date(stats.lastAt) : null].filter((d): d is Date => !!d)
  const last = times.length ? new Date(Math.max(...times.map(d => d.getTime()))) : null
  return { ...api, lastActiveAt: last?.toISOString() ?? null, conversationCount: Number(stats?.count ?? 0) }
}

/** `supervisorId` must name an active supervisor or admin (not the user themself). */
async function checkSupervisor(supervisorId: string | null | undefined, userId?: string) {
  if (!supervisorId) return
  if (supervisorId === userId) throw badRequest('supervisorId', 'a user cannot supervise themself')
  const supervisor = await findUserById(supervisorId)
  if (!supervisor || supervisor.role === 'worker')
    throw badRequest('supervisorId', 'must be a supervisor or an admin')
  if (!supervisor.active) throw badRequest('supervisorId', 'must be an active user')
}

/** A readable one-time password: 16 characters from a 57-symbol alphabet (~93 bits). */
export function temporaryPassword() {
  return randomToken(24).replace(/[-_0OIl1]/g, '').slice(0, 16).padEnd(16, 'x')
}

interface NewUserInput { email: string, fullName: string, role: Role, password?: string, supervisorId?: string | null }

/** Creates a user for an admin; when no password is given one is generated and returned once. */
export async function createUserByAdmin(input: NewUserInput) {
  if (input.password !== undefined) {
    const problem = passwordProblem(input.password, input.email)
    if (problem) throw badRequest('password', problem)
  }
  await checkSupervisor(input.supervisorId)
  if (await findUserByEmail(input.email)) throw createError({ statusCode: 409, message: 'email: an account with this email already exists' })
  const password = input.password ?? temporaryPassword()
  const user = await createUser({ ...input, password })
    .catch(async (error) => {
      // a concurrent create of the same email loses on the unique index
      if (await findUserByEmail(input.email)) throw createError({ statusCode: 409, message: 'email: an account with this email already exists' })
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
 * Applies an admin's edit with the guard rails: nobody deactivates or demotes themself, the last active admin
 * stays, deactivating revokes every session at once. Returns the updated user and what changed.
 */
export async function updateUserByAdmin(actor: User, target: User, changes: UserChanges) {
  const losesAdmin = target.role === 'admin' && target.active
    && ((changes.role !== undefined && changes.role !== 'admin') || changes.active === false)
  if (target.id === actor.id && losesAdmin)
    throw createError({ statusCode: 403, message: 'You cannot deactivate or demote yourself' })
  if (losesAdmin && (await otherActiveAdmins(target.id)) === 0)
    throw createError({ statusCode: 409, message: 'The last active admin cannot be deactivated or demoted' })
  await checkSupervisor(changes.supervisorId, target.id)
  const diff = Object.fromEntries(Object.entries(changes)
    .filter(([key, value]) => value !== undefined && target[key as keyof UserChanges] !== value)) as UserChanges
  if (Object.keys(diff).length === 0) return { user: target, diff }
  const [user] = await useDb().update(users).set(diff).where(eq(users.id, target.id)).returning()
  if (losesAdmin && (await otherActiveAdmins(target.id)) === 0) {
    // two admins removing each other at the same moment: both checks passed, so undo ours
    const undo = Object.fromEntries(Object.keys(diff).map(key => [key, target[key as keyof UserChanges]]))
    await useDb().update(users).set(undo).where(eq(users.id, target.id))
    throw createError({ statusCode: 409, message: 'The last active admin cannot be deactivated or demoted' })
  }
  if (diff.active === false) await revokeUserSessions(target.id)
  return { user: user!, diff }
}

/** A new temporary password for the user (returned once); every session of theirs ends. */
export async function resetPasswordByAdmin(target: User) {
  if (target.isDemo) throw createError({ statusCode: 403, message: 'Demo accounts keep their published password' })
  const password = temporaryPassword()
  await useDb().update(users).set({ passwordHash: await hashPassword(password) }).where(eq(users.id, target.id))
  const revoked = await revokeUserSessions(target.id)
  return { temporaryPassword: password, revokedSessions: revoked }
}
