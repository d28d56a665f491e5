import { eq } from 'drizzle-orm'
import { useDb } from '../db/client'
import { apiTokens, conversations, sessions, users } from '../db/schema'
import type { HaltReason } from './chat-sse'

/** Who is generating an answer, and with which credential (a session row or an API token). */
export interface AnswerOwner { userId: string, sessionId: string | null, tokenId: string | null }

/**
 * Why a running answer must stop now, or null: the credential it was asked with is revoked or expired, the user
 * deactivated, or the conversation deleted or moved to someone else (only the owner writes into a conversation).
 */
export async function haltReasonFor(owner: AnswerOwner, conversationId: string): Promise<HaltReason | null> {
  const db = useDb()
  const now = Date.now()
  const [user] = await db.select({ active: users.active }).from(users).where(eq(users.id, owner.userId)).limit(1)
  if (!user?.active) return 'revoked'
  if (owner.sessionId) {
    const [session] = await db.select({ revokedAt: sessions.revokedAt, expiresAt: sessions.expiresAt }).from(sessions).where(eq(sessions.id, owner.sessionId)).limit(1)
    if (!session || session.revokedAt || session.expiresAt.getTime() <= now) return 'revoked'
  }
  else if (owner.tokenId) {
    const [token] = await db.select({ expiresAt: apiTokens.expiresAt }).from(apiTokens).where(eq(apiTokens.id, owner.tokenId)).limit(1)
    if (!token || (token.expiresAt && token.expiresAt.getTime() <= now)) return 'revoked'
  }
  const [conversation] = await db.select({ userId: conversations.userId }).from(conversations).where(eq(conversations.id, conversationId)).limit(1)
  if (!conversation) return 'deleted'
  if (conversation.userId !== owner.userId) return 'reassigned'
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
