import type { H3Event } from 'h3'
import { and, eq } from 'drizzle-orm'
import { referenceGone, useDb } from '../db/client'
import { type Conversation, conversations, type User } from '../db/schema'
import { canReassignTo, requireConversation, userNotFound, type Viewer } from './access'
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
export async function reassignConversation(event: H3Event, actor: Viewer, conversation: Conversation, targetUserId: string, attempts = 8): Promise<Conversation> {
  const target = await findUserById(targetUserId)
  if (!target) throw fieldError('targetUserId', 'no such user')
  if (!(await canReassignTo(actor, target)))
    throw fieldError('targetUserId', 'this user is outside your team', 403)
  if (!target.active) throw fieldError('targetUserId', 'this user is deactivated')
  if (target.id === conversation.userId) return conversation
  const [moved] = await useDb().update(conversations).set({ userId: target.id })
    .where(and(eq(conversations.id, conversation.id), eq(conversations.userId, conversation.userId))).returning()
    // the target was deleted since it was read: its foreign key refuses the move, answered as a later request is
    .catch((error: unknown) => { throw referenceGone(error) ? fieldError('targetUserId', 'no such user') : error })
  if (!moved) {
    // another reassign (or a delete) came first: decide again on the conversation as it is now, with the same scope
    // rules (404 when it is gone or now out of reach), as if this request had come just after that one
    if (attempts <= 1) throw createError({ statusCode: 409, message: 'The conversation changed owner meanwhile; reload and try again' })
    return reassignConversation(event, actor, await requireConversation(actor, conversation.id, 'read'), targetUserId, attempts - 1)
  }
  await audit(event, 'conversation.reassigned', {
    actorId: actor.id,
    targetType: 'conversation',
    targetId: conversation.id,
    meta: { from: conversation.userId, to: target.id },
  })
  return moved
}
