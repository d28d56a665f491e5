import { and, eq, inArray } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import { useDb } from '../../db/client'
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
