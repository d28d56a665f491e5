import { epochMs, readRows } from '../db/client'
import type { HaltReason } from './chat-sse'

/** Who is generating an answer, and with which credential (a session row or an API token). */
export interface AnswerOwner { userId: string, sessionId: string | null, tokenId: string | null }

// the user, with the session or token and the conversation left-joined by id. Through the row reader (a statement
// prepared once, positional rows): it runs every second for every answer under way, and through drizzle and
// @libsql/client its building, preparing and row mapping cost more than the lookup
let watchText: string | undefined
const watch = () => watchText ??= `select u.active, s.id, s.revoked_at, ${epochMs('s.expires_at')}, t.id, ${epochMs('t.expires_at')}, c.user_id
  from users u
  left join sessions s on s.id = ?
  left join api_tokens t on t.id = ?
  left join conversations c on c.id = ?
  where u.id = ? limit 1`

/**
 * Why a running answer must stop now, or null: the credential it was asked with is revoked or expired, the user
 * deactivated, or the conversation deleted or moved to someone else (only the owner writes into a conversation).
 * One statement (it runs every second for every answer under way).
 */
export async function haltReasonFor(owner: AnswerOwner, conversationId: string): Promise<HaltReason | null> {
  const now = Date.now()
  const [row] = await readRows(watch(), [owner.sessionId ?? '', owner.tokenId ?? '', conversationId, owner.userId])
  // SQLite: active 0/1 and dates as ms; PostgreSQL: a boolean, dates as epoch ms (epochMs)
  const [active, sessionId, revokedAt, sessionExpiresAt, tokenId, tokenExpiresAt, conversationOwner] = row ?? []
  if (!row || !active) return 'revoked'
  if (owner.sessionId) {
    if (!sessionId || (revokedAt !== null && revokedAt !== undefined) || sessionExpiresAt === null || Number(sessionExpiresAt) <= now) return 'revoked'
  }
  else if (owner.tokenId) {
    if (!tokenId || (tokenExpiresAt !== null && Number(tokenExpiresAt) <= now)) return 'revoked'
  }
  if (!conversationOwner) return 'deleted'
  if (conversationOwner !== owner.userId) return 'reassigned'
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
