import { desc, eq } from 'drizzle-orm'
import { useDb } from '../../db/client'
import { type Conversation, messages } from '../../db/schema'
import { generationQueue } from '../chat'
import { modelErrorMessage, openModelStream } from '../chat-model'
import { buildContext, type ContextMessage } from '../context'
import { RetryableError } from '../jobs'
import { getSettings } from '../settings'
import { defaultSystemPrompt, findSystemPrompt } from '../system-prompts'

/** What the model said, ready to be saved as the assistant's message. */
export interface ChannelAnswer {
  text: string
  model: string
  promptTokens: number | null
  completionTokens: number | null
  firstTokenMs: number | null
  durationMs: number
}

// the person reads the answer on a phone, often a basic one
const SMS_HINT = 'El usuario escribe por SMS desde un teléfono: responde breve, en texto plano, sin tablas ni formato Markdown.'
// no token for this long: the model is stuck, try again later
const STALL_MS = 120_000

/**
 * Answers the newest user message of a channel conversation with the model (history, system prompt, the
 * admin's settings, a slot of this process's generation queue). Any model failure is a `RetryableError`: the
 * job tries again later and, in the end, tells the user the assistant is unavailable.
 * (The seam the orchestrator's `runTurn` replaces once it lands; only this function talks to the model.)
 */
export async function answerChannelMessage(conversation: Conversation): Promise<ChannelAnswer> {
  const settings = await getSettings()
  const recent = await useDb().select().from(messages).where(eq(messages.conversationId, conversation.id))
    .orderBy(desc(messages.createdAt), desc(messages.id)).limit(settings.historyMessages + 2)
  const history = recent.filter(m => (m.role === 'user' || m.role === 'assistant') && m.status !== 'error')
    .reverse().map(m => ({ role: m.role, content: m.content }) as ContextMessage)
  const prompt = (conversation.systemPromptId ? await findSystemPrompt(conversation.systemPromptId) : undefined) ?? await defaultSystemPrompt()
  const system = [prompt?.content, SMS_HINT].filter(Boolean).join('\n\n')
  const model = settings.defaultModel

  generationQueue.limit = settings.maxConcurrentGenerations
  const release = await generationQueue.acquire(conversation.userId)
  const abort = new AbortController()
  const stall = setTimeout(() => abort.abort(new Error('the model stopped answering (timeout)')), STALL_MS)
  const started = performance.now()
  let firstTokenMs: number | null = null
  let text = ''
  let usage: { promptTokens: number, completionTokens: number } | null = null
  try {
    const stream = await openModelStream({ model, messages: buildContext(system, history, settings), settings, signal: abort.signal })
    for await (const part of stream) {
      if (part.message?.content) {
        stall.refresh()
        firstTokenMs ??= Math.round(performance.now() - started)
        text += part.message.content
      }
      if (part.done) usage = { promptTokens: part.prompt_eval_count ?? 0, completionTokens: part.eval_count ?? 0 }
    }
  }
  catch (error) {
    throw new RetryableError(modelErrorMessage(abort.signal.aborted ? abort.signal.reason : error))
  }
  finally {
    clearTimeout(stall)
    release()
  }
  if (!text.trim()) throw new RetryableError('the model answered nothing')
  return { text, model, promptTokens: usage?.promptTokens ?? null, completionTokens: usage?.completionTokens ?? null, firstTokenMs, durationMs: Math.round(performance.now() - started) }
}
