import { and, count, eq, gt, inArray, isNull, max, ne, or } from 'drizzle-orm'
import { useDb } from '../db/client'
import { auditEvents, conversations } from '../db/schema'
import { ACCESS_ACTIONS } from './admin-audit'

/** One of the owner's conversations that someone opened (or moved) since the owner last looked at its log. */
export interface UnseenAccess { conversationId: string, count: number, lastAt: string }

/**
 * The owner's conversations with access-log events newer than their last look (`accessSeenAt`; never
 * looked: all of them): what the sidebar marks with a dot. Events by the owner themself never count.
 */
export async function unseenAccess(ownerId: string): Promise<UnseenAccess[]> {
  const rows = await useDb()
    .select({ conversationId: conversations.id, count: count(), lastAt: max(auditEvents.at) })
    .from(conversations)
    .innerJoin(auditEvents, and(
      eq(auditEvents.targetId, conversations.id),
      eq(auditEvents.targetType, 'conversation'),
      inArray(auditEvents.action, [...ACCESS_ACTIONS]),
    ))
    .where(and(
      eq(conversations.userId, ownerId),
      or(isNull(conversations.accessSeenAt), gt(auditEvents.at, conversations.accessSeenAt)),
      or(isNull(auditEvents.actorId), ne(auditEvents.actorId, ownerId)),
    ))
    .groupBy(conversations.id)
  return rows.map(r => ({ conversationId: r.conversationId, count: Number(r.count), lastAt: new Date(r.lastAt as Date | string | number).toISOString() }))
}

/** The owner looked at the conversation's access log now: earlier events stop counting as unseen. */
export async function markAccessSeen(conversationId: string, at = new Date()) {
  await useDb().update(conversations).set({ accessSeenAt: at }).where(eq(conversations.id, conversationId))
}
