/**
 * What the model sees: the system prompt and the newest messages that fit the context window.
 * Pure functions, so the budget rules are unit-tested without a model.
 */
import { UNNAMED_TITLE } from '#shared/conversations'

export interface ContextMessage {
  role: 'system' | 'user' | 'assistant' | 'tool'
  content: string
  /** An assistant message that called tools (Ollama's wire format: arguments is an object). */
  tool_calls?: Array<{ function: { name: string, arguments: Record<string, unknown> } }>
  /** A tool result: the name of the tool it answers. */
  tool_name?: string
}

export interface ContextLimits {
  /** The model's context window in tokens (settings.numCtx). */
  numCtx: number
  /** At most this many history messages (settings.historyMessages), the newest included. */
  historyMessages: number
}

// role markers and separators cost a few tokens per message in every chat template
const PER_MESSAGE_TOKENS = 4

/** A rough token count: about four characters per token for Spanish and English text. */
export const estimateTokens = (text: string) => Math.ceil(text.length / 4) + PER_MESSAGE_TOKENS

/** Tokens kept free for the answer: a quarter of the window, at most 1024. */
export const answerReserve = (numCtx: number) => Math.min(1024, Math.floor(numCtx / 4))

/**
 * The messages to send: the system prompt (when any), then the newest of `history` (oldest first) that fit
 * `numCtx` minus the answer reserve and at most `historyMessages` of them. The last message — the one being
 * answered — is always kept, even when it alone is over budget.
 */
export function buildContext(systemPrompt: string | null | undefined, history: ContextMessage[], limits: ContextLimits): ContextMessage[] {
  const usable = history.filter(m => m.content.length > 0 || m.tool_calls?.length)
  let budget = limits.numCtx - answerReserve(limits.numCtx) - (systemPrompt ? estimateTokens(systemPrompt) : 0)
  const kept: ContextMessage[] = []
  for (let i = usable.length - 1; i >= 0 && kept.length < limits.historyMessages; i--) {
    const message = usable[i]!
    const cost = estimateTokens(message.tool_calls ? message.content + JSON.stringify(message.tool_calls) : message.content)
    if (kept.length > 0 && cost > budget) break
    budget -= cost
    kept.push(message)
  }
  kept.reverse()
  // a history that starts with an answer or a tool round confuses small models: start at a user turn
  while (kept.length > 1 && kept[0]!.role !== 'user') kept.shift()
  return systemPrompt ? [{ role: 'system', content: systemPrompt }, ...kept] : kept
}

/** Messages for the auto-title call: a short instruction plus the start of the first exchange. */
export function titlePrompt(question: string, answer: string): ContextMessage[] {
  return [
    { role: 'system', content: 'Escribe un título breve (máximo 6 palabras) en español para esta conversación. Responde solo con el título, sin comillas ni punto final.' },
    { role: 'user', content: `Pregunta: ${question.slice(0, 1000)}\n\nRespuesta: ${answer.slice(0, 500)}` },
  ]
}

const TITLE_MAX = 60

/** Cleans what the model proposed as a title: first line, no quotes, markdown or trailing dot; null when unusable. */
export function cleanTitle(raw: string): string | null {
  const line = raw.replace(/<think>[\s\S]*?<\/think>/g, '').split('\n').map(s => s.trim()).find(Boolean) ?? ''
  const title = line
    .replace(/^(t[íi]tulo|title)\s*:\s*/i, '')
    .replace(/[*_#`"“”«»']/g, '')
    .replace(/[.。]+$/, '')
    .replace(/\s+/g, ' ')
    .trim()
  if (!title) return null
  return title.length > TITLE_MAX ? `${title.slice(0, TITLE_MAX - 1).trimEnd()}…` : title
}

/** The fallback title: the first words of the user's message. */
export function titleFromMessage(message: string, words = 6): string {
  const all = message.replace(/\s+/g, ' ').trim().split(' ').filter(Boolean)
  if (!all.length) return UNNAMED_TITLE
  let title = all.slice(0, words).join(' ')
  if (title.length > TITLE_MAX) title = `${title.slice(0, TITLE_MAX - 1).trimEnd()}…`
  else if (all.length > words) title += '…'
  return title
}
