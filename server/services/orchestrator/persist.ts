import { UNNAMED_TITLE } from '#shared/conversations'
import { databaseUnavailable, rootCause } from '../../db/client'
import { groupCommit } from '../../db/group-commit'
import type { Message } from '../../db/schema'
import type { Turn } from '../chat-turn'
import { proposeTitle } from '../chat-model'
import { deleteMessages, insertMessage, nameIfUnnamed, touchAnswered, upsertAnswer, upsertCheckpoint } from '../chat-writes'
import { titleFromMessage } from '../context'
import { publishTitle } from '../conversations'
import type { Answer } from './answer'
import { toolMessageContent } from './tools'

/**
 * Partial answers are saved while they stream, every `checkpointMs()` (CHAT_CHECKPOINT_MS), so that even a
 * SIGKILL loses at most that much text. A checkpointed row has status `stopped` — what it is if the process dies
 * now, and never `complete` for a reader who sees it mid-stream — and the final save overwrites it (same id).
 * No start-up sweep is needed: a row left by a crash already says `stopped`.
 */
export const checkpointMs = () => useConfig().chat.checkpointMs

const answerRow = (turn: Turn, answer: Answer, now: Date): Message => ({
  id: answer.id,
  conversationId: turn.conversation.id,
  role: 'assistant',
  authorId: null,
  content: answer.text,
  status: answer.status,
  model: turn.model,
  promptTokens: answer.usage?.promptTokens ?? null,
  completionTokens: answer.usage?.completionTokens ?? null,
  firstTokenMs: answer.firstTokenMs,
  durationMs: answer.durationMs,
  createdAt: now,
})

/** Saves the text streamed so far as the answer's row (status `stopped`); failures are logged, the stream goes on. */
export function saveCheckpoint(turn: Turn, answer: Answer, text: string): Promise<void> {
  const row = answerRow(turn, { ...answer, text, status: 'stopped', usage: null }, new Date())
  return groupCommit(() => [upsertCheckpoint(row)])
    .catch((error) => {
      const cause = rootCause(error) as { code?: string } | undefined
      log.warn('chat answer checkpoint not saved', { userId: turn.user.id, conversationId: turn.conversation.id, error: cause?.code ?? 'error' })
    })
}

/**
 * Step 8: the answer is written at the end (over its checkpoint, if one was saved), in one commit with the tool
 * calls that led to it (as `tool` messages, dated when they ran, so they sort between the question and the
 * answer). A regenerated answer replaces the previous one and its tool messages. Through the group commit:
 * answers finishing together share one transaction.
 */
export async function saveAnswer(turn: Turn, answer: Answer): Promise<Message> {
  const now = new Date()
  const base = { conversationId: turn.conversation.id, authorId: null, model: turn.model, promptTokens: null, completionTokens: null, firstTokenMs: null, durationMs: null }
  const toolRows: Message[] = answer.tools.map(record => ({
    ...base, id: record.id, role: 'tool', content: toolMessageContent(record), status: record.ok ? 'complete' : 'error', createdAt: record.at,
  }))
  const row = answerRow(turn, answer, now)
  // a checkpoint still being written must not land after (and over) the final answer
  await answer.checkpoint
  await groupCommit(() => [
    ...(turn.replaceIds.length ? [deleteMessages(turn.replaceIds)] : []),
    ...toolRows.map(insertMessage),
    upsertAnswer(row),
    touchAnswered(turn.conversation, now),
  ])
  return row
}

// saving an answer through a database blip: 5 retries, 0.25 s doubling (about 8 s in all)
const SAVE_RETRIES = 5
const SAVE_BACKOFF_MS = 250

/**
 * Step 8 with retries: a database blip (connection lost, restarting) is retried with back-off; anything else (the
 * conversation was deleted meanwhile), or a database still gone after the retries, gives up: null.
 */
export async function saveAnswerWithRetry(turn: Turn, answer: Answer): Promise<Message | null> {
  for (let attempt = 0; ; attempt++) {
    try { return await saveAnswer(turn, answer) }
    catch (error) {
      const cause = rootCause(error) as { code?: string, message?: string }
      if (!databaseUnavailable(error) || attempt >= SAVE_RETRIES) {
        log.error('chat answer not saved', { userId: turn.user.id, conversationId: turn.conversation.id, attempts: attempt + 1, error: `${cause?.code ?? ''} ${String(cause?.message ?? '').split('\n')[0]!.slice(0, 200)}`.trim() })
        return null
      }
      await new Promise(resolve => setTimeout(resolve, SAVE_BACKOFF_MS * 2 ** attempt))
    }
  }
}

/** Step 9: a short title from the model after a complete first answer, else the first words of the message. */
export async function nameConversation(turn: Turn, answer: Answer, signal: AbortSignal) {
  const proposed = answer.status === 'complete' && !signal.aborted
    ? await proposeTitle(turn.model, turn.userMessage.content, answer.text, signal)
    : null
  const title = proposed ?? titleFromMessage(turn.userMessage.content)
  // only a still-unnamed conversation: a rename during the answer wins. Through the group commit: titles of answers
  // that finished together share one commit (one fsync), like the answers themselves
  await groupCommit(() => [nameIfUnnamed(turn.conversation.id, title, UNNAMED_TITLE)])
  // the owner's tabs learn it even when this stream is gone (a stopped answer is named after its client left)
  publishTitle({ ...turn.conversation, title })
  return title
}
