import { and, eq, inArray } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import { databaseUnavailable, rootCause, useDb } from '../../db/client'
import { conversations, type Message, messages } from '../../db/schema'
import type { Turn } from '../chat-turn'
import { proposeTitle } from '../chat-model'
import { titleFromMessage } from '../context'
import { DEFAULT_TITLE } from '../conversations'
import type { Answer } from './answer'
import { toolMessageContent } from './tools'

/**
 * Step 8: the answer is written once, at the end, in one transaction with the tool calls that led to it (as
 * `tool` messages, dated when they ran, so they sort between the question and the answer). A regenerated answer
 * replaces the previous one and its tool messages.
 */
export async function saveAnswer(turn: Turn, answer: Answer): Promise<Message> {
  const now = new Date()
  const base = { conversationId: turn.conversation.id, model: turn.model, promptTokens: null, completionTokens: null, firstTokenMs: null, durationMs: null }
  const toolRows: Message[] = answer.tools.map(record => ({
    ...base, id: record.id, role: 'tool', content: toolMessageContent(record), status: record.ok ? 'complete' : 'error', createdAt: record.at,
  }))
  const row: Message = {
    ...base,
    id: uuidv7(),
    role: 'assistant',
    content: answer.text,
    status: answer.status,
    promptTokens: answer.usage?.promptTokens ?? null,
    completionTokens: answer.usage?.completionTokens ?? null,
    firstTokenMs: answer.firstTokenMs,
    durationMs: answer.durationMs,
    createdAt: now,
  }
  await useDb().transaction(async (tx) => {
    if (turn.replaceIds.length) await tx.delete(messages).where(inArray(messages.id, turn.replaceIds))
    if (toolRows.length) await tx.insert(messages).values(toolRows)
    await tx.insert(messages).values(row)
    const { model, systemPromptId } = turn.conversation
    await tx.update(conversations).set({ model, systemPromptId, updatedAt: now }).where(eq(conversations.id, turn.conversation.id))
  })
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
  // only a still-unnamed conversation: a rename during the answer wins
  await useDb().update(conversations).set({ title })
    .where(and(eq(conversations.id, turn.conversation.id), eq(conversations.title, DEFAULT_TITLE)))
  return title
}
