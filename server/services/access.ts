import type { H3Event } from 'h3'
import { and, eq, inArray, type SQL } from 'drizzle-orm'
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core'
import { BUILT_IN, type BuiltInRole, type Permission, type Reach } from '#shared/permissions'
import { useDb } from '../db/client'
import { type Conversation, type Report, reports, type User, users } from '../db/schema'
import { audit } from './audit'
import { conversationById } from './chat-reads'
import { asViewer } from './roles'

/**
 * The one place that decides who may do what on whose data (API.md "Roles and scope", "Roles and
 * permissions"). A viewer is a user with their effective permissions (built-in role ∪ extra roles).
 * Reach comes from permissions, never from role names: `.all` → everyone; `.team` → self + the workers whose
 * supervisorId is the viewer; otherwise self. Anything unknown grants nothing.
 * Out of scope answers 404 (as if it did not exist); visible but not allowed answers 403.
 */

export type Viewer = User & { permissions: readonly Permission[], roleNames: readonly string[] }

/** The areas whose reach is decided here. */
export type Area = 'users' | 'conversations' | 'reports'

export const can = (viewer: Viewer, permission: Permission) => viewer.permissions.includes(permission)

/** How far `viewer` reaches in `area`. */
export function reachOf(viewer: Viewer, area: Area): Reach {
  const readAll = can(viewer, 'conversations.read.all')
  switch (area) {
    case 'conversations':
      return readAll ? 'all' : can(viewer, 'conversations.read.team') ? 'team' : 'self'
    case 'users':
      // managing users or their roles means finding any of them
      if (readAll || can(viewer, 'users.manage') || can(viewer, 'roles.manage')) return 'all'
      return can(viewer, 'users.read') || can(viewer, 'conversations.read.team') ? 'team' : 'self'
    case 'reports':
      if (!can(viewer, 'reports.manage')) return 'self'
      return readAll || can(viewer, 'users.manage') ? 'all' : 'team'
    default:
      return unreachable(area)
  }
}

function unreachable(value: never): never {
  throw new Error(`access: unknown ${String(value)}`)
}

/** The ids of the users a reach covers, or null for everyone. */
async function idsWithin(viewer: User, reach: Reach): Promise<string[] | null> {
  switch (reach) {
    case 'all': return null
    case 'self': return [viewer.id]
    case 'team': {
      const team = await useDb().select({ id: users.id }).from(users)
        .where(and(eq(users.supervisorId, viewer.id), eq(users.role, 'worker')))
      return [viewer.id, ...team.map(u => u.id)]
    }
    default: return unreachable(reach)
  }
}

/** The ids of the users whose `area` data `viewer` may see, or null for everyone. */
export const visibleUserIds = (viewer: Viewer, area: Area = 'users') => idsWithin(viewer, reachOf(viewer, area))

/** A WHERE fragment limiting `column` (a user id column) to what `viewer` may see in `area`; undefined = no limit. */
export async function scopeFilter(viewer: Viewer, column: SQLiteColumn, area: Area = 'users'): Promise<SQL | undefined> {
  const ids = await visibleUserIds(viewer, area)
  return ids ? inArray(column, ids) : undefined
}

export async function canSeeUser(viewer: Viewer, userId: string, area: Area = 'users') {
  if (userId === viewer.id) return true
  const ids = await visibleUserIds(viewer, area)
  return !ids || ids.includes(userId)
}

const notFound = (what: string) => createError({ statusCode: 404, message: `${what} not found` })

/**
 * 404 unless user `id` is within `viewer`'s reach in `area`, without reading the user: for a read limited to `id`
 * that finds out by itself whether the user exists (the admin's list of a user's conversations), which answers
 * `userNotFound()` when not — the same 404 as out of reach.
 */
export async function requireUserInReach(viewer: Viewer, id: string, area: Area = 'users') {
  if (!(await canSeeUser(viewer, id, area))) throw notFound('User')
}

export const userNotFound = () => notFound('User')

/**
 * The user `id` when `viewer` may see them in `area`, else 404. `field`: the id came in that query or body field,
 * which the 404 then names (docs/api.md "Errors": every error about a field names it).
 */
export async function requireVisibleUser(viewer: Viewer, id: string, area: Area = 'users', field?: string) {
  const missing = () => field ? fieldError(field, 'no user with this id', 404) : notFound('User')
  if (!(await canSeeUser(viewer, id, area))) throw missing()
  const [user] = await useDb().select().from(users).where(eq(users.id, id)).limit(1)
  if (!user) throw missing()
  return user
}

/**
 * A user whose account `actor` changes (edit, password or 2FA reset, phone, delete): visible, and holding no
 * permission the actor lacks. So `users.manage` given to a supervisor reaches workers and other supervisors, never
 * an admin's account (403): nobody manages an account that can do more than they can.
 */
export async function requireManageableUser(actor: Viewer, id: string) {
  const target = await requireVisibleUser(actor, id)
  if (target.id !== actor.id) {
    const { permissions } = await asViewer(target)
    if (!holdsAll(actor, permissions)) throw createError({ statusCode: 403, message: 'You cannot change an account that has permissions you do not have' })
  }
  return target
}

/** Nobody grants a built-in role with a permission they do not hold themselves (403 naming `role`). */
export function assertMayGrantRole(actor: Viewer, role: BuiltInRole) {
  if (!holdsAll(actor, BUILT_IN[role].permissions)) throw fieldError('role', `you cannot give the ${role} role: it has permissions you do not have`, 403)
}

const holdsAll = (actor: Viewer, permissions: readonly Permission[]) => permissions.every(p => actor.permissions.includes(p))

export type ConversationAccess = 'read' | 'write' | 'delete'

/**
 * Loads a conversation for `viewer`: 404 when it is outside their reach; 403 when they may see it but not
 * do `mode` (only the owner writes; the owner or a `users.manage` holder deletes).
 */
export async function requireConversation(viewer: Viewer, id: string, mode: ConversationAccess): Promise<Conversation> {
  const conversation = await conversationById(id)
  if (!conversation || !(await canSeeUser(viewer, conversation.userId, 'conversations'))) throw notFound('Conversation')
  const owner = conversation.userId === viewer.id
  if (mode === 'write' && !owner) throw createError({ statusCode: 403, message: 'Only the owner can change this conversation' })
  if (mode === 'delete' && !owner && !can(viewer, 'users.manage')) throw createError({ statusCode: 403, message: 'Only the owner or an admin can delete this conversation' })
  return conversation
}

/** Reading someone else's messages is always an audit event (the owner can see who opened it). */
export async function auditConversationRead(event: H3Event, viewer: User, conversation: Conversation) {
  if (conversation.userId === viewer.id) return
  await audit(event, 'conversation.read', { actorId: viewer.id, targetType: 'conversation', targetId: conversation.id, meta: { ownerId: conversation.userId } })
}

/** Whether `viewer` may hand conversations to `target`: `conversations.reassign` and the target within reach. */
export async function canReassignTo(viewer: Viewer, target: User) {
  if (!can(viewer, 'conversations.reassign')) return false
  return canSeeUser(viewer, target.id, 'conversations')
}

export type ReportAccess = 'read' | 'comment' | 'edit' | 'manage'

/** Whether `viewer` handles `reporterId`'s reports: `reports.manage` and the reporter within their reports reach. */
export async function isReportStaffFor(viewer: Viewer, reporterId: string) {
  return can(viewer, 'reports.manage') && canSeeUser(viewer, reporterId, 'reports')
}

/**
 * Loads a report for `viewer`: 404 unless they filed it or are staff in scope. Then 403 when they may see it but
 * not do `mode`: `edit` is the reporter's only; `manage` (status, resolve) is staff's only; `read` and `comment`
 * are both's.
 */
export async function requireReport(viewer: Viewer, id: string, mode: ReportAccess): Promise<Report> {
  const [report] = await useDb().select().from(reports).where(eq(reports.id, id)).limit(1)
  if (!report) throw notFound('Report')
  const reporter = report.reporterId === viewer.id
  const staff = await isReportStaffFor(viewer, report.reporterId)
  if (!reporter && !staff) throw notFound('Report')
  if (mode === 'edit' && !reporter) throw createError({ statusCode: 403, message: 'Only the reporter can edit this report' })
  if (mode === 'manage' && !staff) throw createError({ statusCode: 403, message: 'Only staff can change the status of this report' })
  return report
}
