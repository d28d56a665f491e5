import { eq } from 'drizzle-orm'
import { useDb } from '../db/client'
import { apiTokens, conversations, sessions, users } from '../db/schema'
import type { HaltReason } from './chat-sse'

/** Who is generating an answer, and with which credential (a session row or an API token). */
export interface AnswerOwner { userId: string, sessionId: string | null, tokenId: string | null }

/**
 * Why a running answer must stop now, or null: the credential it was asked with is revoked or expired, the user
 * deactivated, or the conversation deleted or moved to someone else (only the owner writes into a conversation).
 * One statement (it runs every second for every answer under way): the user, with the session or token and the
 * conversation left-joined by id.
 */
export async function haltReasonFor(owner: AnswerOwner, conversationId: string): Promise<HaltReason | null> {
  const now = Date.now()
  const [row] = await useDb().select({
    active: users.active,
    sessionId: sessions.id,
    revokedAt: sessions.revokedAt,
    sessionExpiresAt: sessions.expiresAt,
    tokenId: apiTokens.id,
    tokenExpiresAt: apiTokens.expiresAt,
    conversationOwner: conversations.userId,
  }).from(users)
    .leftJoin(sessions, eq(sessions.id, owner.sessionId ?? ''))
    .leftJoin(apiTokens, eq(apiTokens.id, owner.tokenId ?? ''))
    .leftJoin(conversations, eq(conversations.id, conversationId))
    .where(eq(users.id, owner.userId))
    .limit(1)
  if (!row?.active) return 'revoked'
  if (owner.sessionId) {
    if (!row.sessionId || row.revokedAt || !row.sessionExpiresAt || row.sessionExpiresAt.getTime() <= now) return 'revoked'
  }
  else if (owner.tokenId) {
    if (!row.tokenId || (row.tokenExpiresAt && row.tokenExpiresAt.getTime() <= now)) return 'revoked'
  }
  if (!row.conversationOwner) return 'deleted'
  if (row.conversationOwner !== owner.userId) return 'reassigned'
  return null
}

/**
 * Re-checks `haltReasonFor` every `everyMs` while an answer runs (across app processes: it asks the database) and
 * calls `halt` once. A failing check (database blip) halts nothing. Returns the function that stops watching.
 */
export function watchAnswer(owner: AnswerOwner, conversationId: string, everyMs: number, halt: (reason: HaltReason) => void) {
  let busy = false
  const timer = setInterval(async () => {
    if (busy) return
    busy = true
    try {
      const reason = await haltReasonFor(owner, conversationId).catch(() => null)
      if (reason) { clearInterval(timer); halt(reason) }
    }
    finally { busy = false }
  }, everyMs)
  timer.unref()
  return () => clearInterval(timer)
}
