import type { H3Event } from 'h3'
import { and, eq, inArray, type SQL } from 'drizzle-orm'
import type { SQLiteColumn } from 'drizzle-orm/sqlite-core'
import { useDb } from '../db/client'
import { type Conversation, conversations, type User, users } from '../db/schema'
import { audit } from './audit'

/**
 * The one place that decides who sees what (API.md "Roles and scope"):
 * admin → everyone; supervisor → self + the workers whose supervisorId is them; worker → self.
 * Out of scope answers 404 (as if it did not exist); visible but not allowed answers 403.
 */

/** The ids of the users `viewer` may see, or null for everyone (admin). */
export async function visibleUserIds(viewer: User): Promise<string[] | null> {
  if (viewer.role === 'admin') return null
  if (viewer.role === 'worker') return [viewer.id]
  const team = await useDb().select({ id: users.id }).from(users)
    .where(and(eq(users.supervisorId, viewer.id), eq(users.role, 'worker')))
  return [viewer.id, ...team.map(u => u.id)]
}

/** A WHERE fragment limiting `column` (a user id column) to what `viewer` may see; undefined = no limit. */
export async function scopeFilter(viewer: User, column: SQLiteColumn): Promise<SQL | undefined> {
  const ids = await visibleUserIds(viewer)
  return ids ? inArray(column, ids) : undefined
}

export async function canSeeUser(viewer: User, userId: string) {
  const ids = await visibleUserIds(viewer)
  return !ids || ids.includes(userId)
}

const notFound = (what: string) => createError({ statusCode: 404, message: `${what} not found` })

/** The user `id` when `viewer` may see them, else 404. */
export async function requireVisibleUser(viewer: User, id: string) {
  if (!(await canSeeUser(viewer, id))) throw notFound('User')
  const [user] = await useDb().select().from(users).where(eq(users.id, id)).limit(1)
  if (!user) throw notFound('User')
  return user
}

export type ConversationAccess = 'read' | 'write' | 'delete'

/**
 * Loads a conversation for `viewer`: 404 when it is outside their scope; 403 when they may see it but not
 * do `mode` (only the owner writes; the owner or an admin deletes).
 */
export async function requireConversation(viewer: User, id: string, mode: ConversationAccess): Promise<Conversation> {
  const [conversation] = await useDb().select().from(conversations).where(eq(conversations.id, id)).limit(1)
  if (!conversation || !(await canSeeUser(viewer, conversation.userId))) throw notFound('Conversation')
  const owner = conversation.userId === viewer.id
  if (mode === 'write' && !owner) throw createError({ statusCode: 403, message: 'Only the owner can change this conversation' })
  if (mode === 'delete' && !owner && viewer.role !== 'admin') throw createError({ statusCode: 403, message: 'Only the owner or an admin can delete this conversation' })
  return conversation
}

/** Reading someone else's messages is always an audit event (the owner can see who opened it). */
export async function auditConversationRead(event: H3Event, viewer: User, conversation: Conversation) {
  if (conversation.userId === viewer.id) return
  await audit(event, 'conversation.read', { actorId: viewer.id, targetType: 'conversation', targetId: conversation.id, meta: { ownerId: conversation.userId } })
}

/** Whether `viewer` may hand conversations to `target` (admin: anyone; supervisor: their scope; worker: nobody). */
export async function canReassignTo(viewer: User, target: User) {
  if (viewer.role === 'worker') return false
  return canSeeUser(viewer, target.id)
}
