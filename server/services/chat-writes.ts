import { driverValue, inList, listValue } from '../db/client'
import type { Write } from '../db/group-commit'
import type { Conversation, Message } from '../db/schema'

/**
 * The chat's writes, hand-written (server/db/hand-written.ts): every answer makes them (the question, the answer, the
 * conversation's activity and title), and through drizzle building their text again on every call cost more than
 * preparing and running them (bench/README.md "session 14"). Each does what the drizzle statement it replaced did;
 * the column lists follow server/db/schema, and the chat tests read every column back through the API on both
 * dialects.
 */

const CONVERSATION_COLUMNS = 'id, user_id, title, model, system_prompt_id, pinned, archived, channel, access_seen_at, message_count, created_at, updated_at'
const MESSAGE_COLUMNS = 'id, conversation_id, role, author_id, content, status, model, prompt_tokens, completion_tokens, first_token_ms, duration_ms, created_at'
const placeholders = (columns: string) => columns.split(',').map(() => '?').join(', ')

const INSERT_CONVERSATION = `insert into conversations (${CONVERSATION_COLUMNS}) values (${placeholders(CONVERSATION_COLUMNS)})`
const INSERT_MESSAGE = `insert into messages (${MESSAGE_COLUMNS}) values (${placeholders(MESSAGE_COLUMNS)})`
// a checkpoint refreshes only the text of the row it saved before; the final answer overwrites all but its identity
const UPSERT_CHECKPOINT = `${INSERT_MESSAGE} on conflict (id) do update set content = excluded.content`
const UPSERT_ANSWER = `${INSERT_MESSAGE} on conflict (id) do update set ${MESSAGE_COLUMNS.split(', ')
  .filter(c => !['id', 'conversation_id', 'role', 'author_id'].includes(c)).map(c => `${c} = excluded.${c}`).join(', ')}`

export const insertConversation = (c: Conversation): Write => ({
  text: INSERT_CONVERSATION,
  args: [c.id, c.userId, c.title, c.model, c.systemPromptId, driverValue(c.pinned), driverValue(c.archived), c.channel, driverValue(c.accessSeenAt), c.messageCount, driverValue(c.createdAt), driverValue(c.updatedAt)],
})

const messageArgs = (m: Message) => [
  m.id, m.conversationId, m.role, m.authorId, m.content, m.status, m.model, m.promptTokens, m.completionTokens, m.firstTokenMs, m.durationMs, driverValue(m.createdAt),
]

export const insertMessage = (m: Message): Write => ({ text: INSERT_MESSAGE, args: messageArgs(m) })

/** A partial answer's row (`stopped`); saved again, only its text changes. */
export const upsertCheckpoint = (m: Message): Write => ({ text: UPSERT_CHECKPOINT, args: messageArgs(m) })

/** The final answer's row, over its checkpoint if one was saved. */
export const upsertAnswer = (m: Message): Write => ({ text: UPSERT_ANSWER, args: messageArgs(m) })

export const deleteMessages = (ids: readonly string[]): Write => ({ text: `delete from messages where ${inList('id')}`, args: [listValue(ids)] })

/** A conversation's model, prompt and activity time as an answer left them. */
export const touchAnswered = (c: Pick<Conversation, 'id' | 'model' | 'systemPromptId'>, at: Date): Write => ({
  text: 'update conversations set model = ?, system_prompt_id = ?, updated_at = ? where id = ?',
  args: [c.model, c.systemPromptId, driverValue(at), c.id],
})

/** Names a conversation that still has the title `unnamed` (a rename made meanwhile wins). */
export const nameIfUnnamed = (id: string, title: string, unnamed: string): Write => ({
  text: 'update conversations set title = ? where id = ? and title = ?',
  args: [title, id, unnamed],
})
