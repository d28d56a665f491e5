import type { H3Event } from 'h3'
import { and, eq } from 'drizzle-orm'
import { useDb } from '../db/client'
import { type Conversation, conversations, type User } from '../db/schema'
import { canReassignTo, userNotFound, type Viewer } from './access'
import { audit } from './audit'
import { conversationPage } from './conversation-pages'
import { toApiConversation } from './conversations'
import { checkPaging, decodeCursor, keysetPage } from './keyset'
import { findUserById } from './users'

/** One user's conversations (archived included), most recently updated first; by `offset` or keyset `cursor`. */
export async function listConversationsOf(userId: string, page: { limit: number, offset: number, cursor?: string }) {
  checkPaging(page)
  const key = page.cursor ? decodeCursor(page.cursor, ['number', 'string']) : undefined
  const { total, rows } = await conversationPage(userId, { order: 'admin', limit: page.limit + 1, offset: page.offset, key })
  if (total === null) throw userNotFound()
  const { data, nextCursor } = keysetPage(rows, page.limit, r => [r.updatedAt.getTime(), r.id])
  return { total, data: data.map(r => toApiConversation(r, r.messageCount)), nextCursor }
}

/**
 * Hands `conversation` (already scope-checked for `actor`) to `targetUserId`: 400 when the target does not
 * exist or is inactive, 403 when the target is outside the actor's scope. Audited with from/to.
 */
export async function reassignConversation(event: H3Event, actor: Viewer, conversation: Conversation, targetUserId: string) {
  const target = await findUserById(targetUserId)
  if (!target) throw createError({ statusCode: 400, message: 'targetUserId: no such user', data: { fields: { targetUserId: 'no such user' } } })
  if (!(await canReassignTo(actor, target)))
    throw createError({ statusCode: 403, message: 'targetUserId: this user is outside your team' })
  if (!target.active) throw createError({ statusCode: 400, message: 'targetUserId: this user is deactivated', data: { fields: { targetUserId: 'this user is deactivated' } } })
  if (target.id === conversation.userId) return conversation
  const [moved] = await useDb().update(conversations).set({ userId: target.id })
    .where(and(eq(conversations.id, conversation.id), eq(conversations.userId, conversation.userId))).returning()
  if (!moved) throw createError({ statusCode: 409, message: 'The conversation changed owner meanwhile; reload and try again' })
  await audit(event, 'conversation.reassigned', {
    actorId: actor.id,
    targetType: 'conversation',
    targetId: conversation.id,
    meta: { from: conversation.userId, to: target.id },
  })
  return moved
}
