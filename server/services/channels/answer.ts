import { desc, eq } from 'drizzle-orm'
import { useDb } from '../../db/client'
import { type Conversation, type Message, messages, type User } from '../../db/schema'
import { runTurn } from '../orchestrator'
import { PermanentError, RetryableError } from '../jobs'
import { asViewer } from '../roles'
import { getSettings } from '../settings'

// the person reads the answer on a phone, often a basic one
const SMS_INSTRUCTIONS = 'El usuario escribe por SMS desde un teléfono: responde breve, en texto plano, sin tablas ni formato Markdown.'

/** A turn the app refused (bad input, not a model failure): the reply says why, and no try asks again. */
export class RefusedTurn extends PermanentError {
  constructor(message: string, readonly reply: string) { super(message) }
}

/** What the person reads when the app refused the message itself; only a too long text names a fix. */
async function refusalReply(error: { data?: { fields?: Record<string, string> } }) {
  if (!error.data?.fields?.message) return 'EnergyApp: el asistente no pudo recibir tu mensaje. Si el problema sigue, avisa a tu administrador.'
  const { maxMessageChars } = await getSettings()
  return `EnergyApp: tu mensaje es demasiado largo (máximo ${maxMessageChars} caracteres) y no se guardó. Envíalo más corto o usa la app.`
}

/** Where an SMS turn stands between tries: the user's message, once saved, is answered again rather than re-sent. */
export interface TurnProgress { userMessageId?: string }

/**
 * Answers one SMS through the orchestrator (history, tools, the admin's settings), as the user. Any model
 * failure is a `RetryableError`: the job tries again later — answering the already saved message, replacing a
 * failed answer — and in the end tells the user the assistant is unavailable.
 */
export async function answerSms(user: User, conversation: Conversation, text: string, since: Date, progress: TurnProgress, save: (p: TurnProgress) => Promise<void>): Promise<Message> {
  // a try that crashed after the answer was saved: that answer is the reply
  const saved = await answeredSince(conversation.id, text, since)
  if (saved) return saved
  let result
  try {
    result = await runTurn({
      user: await asViewer(user),
      channel: 'sms',
      conversationId: conversation.id,
      instructions: SMS_INSTRUCTIONS,
      ...(progress.userMessageId ? { regenerate: true } : { text }),
    })
  }
  catch (error) {
    const e = error as { statusCode?: number, message?: string, data?: { userMessageId?: string, fields?: Record<string, string> } }
    if (e.data?.userMessageId && !progress.userMessageId) await save({ userMessageId: e.data.userMessageId })
    if (e.statusCode && e.statusCode < 500) throw new RefusedTurn(`the turn was refused (${e.statusCode}): ${e.message ?? ''}`, await refusalReply(e))
    throw new RetryableError(`the model is unavailable: ${String(e.message ?? error).slice(0, 200)}`)
  }
  if (result.status !== 'complete' || !result.assistantMessage?.content.trim()) {
    if (!progress.userMessageId) await save({ userMessageId: result.userMessage.id })
    throw new RetryableError(`the model failed while answering (${result.status})`)
  }
  // a complete answer: the caller stores the reply itself, and no later try asks the model again
  return result.assistantMessage
}

/** The complete answer already saved for `text` (the newest user message, sent after `since`), if any. */
async function answeredSince(conversationId: string, text: string, since: Date) {
  const newest = await useDb().select().from(messages).where(eq(messages.conversationId, conversationId))
    .orderBy(desc(messages.createdAt), desc(messages.id)).limit(12)
  const question = newest.findIndex(m => m.role === 'user')
  if (question <= 0 || newest[question]!.content !== text || newest[question]!.createdAt < since) return undefined
  return newest.slice(0, question).find(m => m.role === 'assistant' && m.status === 'complete' && m.content.trim())
}
