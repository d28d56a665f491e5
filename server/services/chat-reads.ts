import { epochDate, epochDateOrNull, epochMs, numberOrNull, readRows } from '../db/client'
import type { Conversation, Message } from '../db/schema'

/**
 * The chat's hot reads, hand-written and positional (server/db/hand-written.ts): every follow-up message reads its
 * conversation (the scope check, server/services/access.ts) and its newest messages (the model's context), and
 * every conversation route reads the conversation. Through drizzle and @libsql/client these cost more in building
 * the query and in row objects than in SQL: 12 % of the app's busy time on follow-ups at 50 streams (bench/README.md
 * "session 14"). Each returns the same rows the drizzle select it replaced did (`select()` of every column); the
 * chat and conversation tests read them back through the API on both dialects.
 */

const CONVERSATION = `select id, user_id, title, model, system_prompt_id, pinned, archived, channel, ${epochMs('access_seen_at')}, message_count, ${epochMs('created_at')}, ${epochMs('updated_at')} from conversations where id = ?`

const orNull = (value: unknown) => (value === null || value === undefined ? null : value)

/** The conversation `id`, every column; undefined when there is none. */
export async function conversationById(id: string): Promise<Conversation | undefined> {
  const [row] = await readRows(CONVERSATION, [id])
  if (!row) return undefined
  const [, userId, title, model, systemPromptId, pinned, archived, channel, accessSeenAt, messageCount, createdAt, updatedAt] = row
  return {
    id,
    userId: String(userId),
    title: String(title),
    model: String(model),
    systemPromptId: orNull(systemPromptId) as string | null,
    pinned: Boolean(pinned),
    archived: Boolean(archived),
    channel: channel as Conversation['channel'],
    accessSeenAt: epochDateOrNull(accessSeenAt),
    messageCount: Number(messageCount),
    createdAt: epochDate(createdAt),
    updatedAt: epochDate(updatedAt),
  }
}

const NEWEST = 'select id, role, author_id, content, status, model, prompt_tokens, completion_tokens, first_token_ms, duration_ms, '
  + `${epochMs('created_at')} from messages where conversation_id = ? order by created_at desc, id desc limit ?`

/** The conversation's newest `limit` messages, newest first (tool calls included), every column. */
export async function newestMessages(conversationId: string, limit: number): Promise<Message[]> {
  const rows = await readRows(NEWEST, [conversationId, limit])
  return rows.map(([id, role, authorId, content, status, model, promptTokens, completionTokens, firstTokenMs, durationMs, createdAt]) => ({
    id: String(id),
    conversationId,
    role: role as Message['role'],
    authorId: orNull(authorId) as string | null,
    content: String(content),
    status: status as Message['status'],
    model: orNull(model) as string | null,
    promptTokens: numberOrNull(promptTokens),
    completionTokens: numberOrNull(completionTokens),
    firstTokenMs: numberOrNull(firstTokenMs),
    durationMs: numberOrNull(durationMs),
    createdAt: epochDate(createdAt),
  }))
}
