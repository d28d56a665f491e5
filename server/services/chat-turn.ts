import { readPreferences } from '#shared/account'
import { UNNAMED_TITLE } from '#shared/conversations'
import { charCount } from '#shared/text'
import { and, eq, gt, or, sql } from 'drizzle-orm'
import type * as v from 'valibot'
import { uuidv7 } from 'uuidv7'
import type { ChatBody } from '#shared/schemas'
import { referenceGone, useDb } from '../db/client'
import { groupCommit } from '../db/group-commit'
import { type Conversation, conversations, type Message, messages, type SystemPrompt, type User } from '../db/schema'
import { requireConversation, type Viewer } from './access'
import { newestMessages } from './chat-reads'
import { insertConversation, insertMessage } from './chat-writes'
import { clientSendWrite } from './client-sends'
import { buildContext, type ContextMessage, titleFromMessage } from './context'
import { newConversation, publishTitle, unlessPromptGone } from './conversations'
import type { AppSettings } from './settings'
import { historyMessages } from './orchestrator/tools'
import { listSystemPrompts, systemPromptsVersion } from './system-prompts'

/** Everything a generation needs, decided before the model is called. */
export interface Turn {
  user: Viewer
  conversation: Conversation
  userMessage: Message
  /** The assistant answer (and its tool messages) that `regenerate` replaces once the new one is saved. */
  replaceIds: string[]
  model: string
  context: ContextMessage[]
  /** The conversation still has its placeholder title: the first exchange names it. */
  needsTitle: boolean
  /**
   * Resolves once the user's message (and a new conversation) is committed; rejects with the database's error.
   * Nothing of the turn is shown (no `meta`, no token) before it resolved.
   */
  committed: Promise<void>
}

/** The chat request as the orchestrator passes it on (the web body, or what another channel received). */
type Body = Pick<v.InferOutput<typeof ChatBody>, 'message' | 'conversationId' | 'model' | 'systemPromptId' | 'regenerate' | 'editMessageId' | 'clientId'>


/** 503 that keeps the user's message: the client retries with `{conversationId, regenerate: true}`. */
export function modelUnavailable(turn: Pick<Turn, 'conversation' | 'userMessage'>, message: string, reason: string) {
  return createError({
    statusCode: 503,
    statusMessage: 'Service Unavailable',
    message,
    data: { reason, conversationId: turn.conversation.id, userMessageId: turn.userMessage.id },
  })
}

/** The message text, checked against the admin's `maxMessageChars`; undefined only for `regenerate`. */
export function checkMessage(body: Pick<Body, 'message' | 'regenerate'>, settings: AppSettings) {
  if (body.message === undefined) {
    if (!body.regenerate) throw fieldError('message', 'is required')
    return undefined
  }
  if (charCount(body.message) > settings.maxMessageChars) throw fieldError('message', `must be at most ${settings.maxMessageChars} characters`)
  return body.message
}

/**
 * The one write before the model is called: the user's message (with a new conversation, in one commit), handed
 * to the group commit (server/db/group-commit.ts) and not awaited here: the caller starts the model request while
 * it commits and holds the first token (and `meta`) until `committed` resolved. An existing conversation's
 * updatedAt, model and prompt are written with the answer, or by `touchConversation` when no answer comes, so the
 * usual case costs a single insert.
 */
function saveQuestion(user: User, existing: Conversation | undefined, choice: { model: string, systemPromptId: string | null }, text?: string, clientId?: string) {
  const now = new Date()
  const conversation = { ...(existing ?? newConversation(user.id, choice)), ...choice, updatedAt: now }
  const question: Message | undefined = text === undefined ? undefined : {
    id: uuidv7(), conversationId: conversation.id, role: 'user', authorId: user.id, content: text, status: 'complete', model: null,
    promptTokens: null, completionTokens: null, firstTokenMs: null, durationMs: null, createdAt: now,
  }
  const committed = existing && !question
    ? Promise.resolve()
    : groupCommit(() => [
        ...(existing ? [] : [insertConversation(conversation)]),
        ...(question ? [insertMessage(question)] : []),
        // an outbox send: its id goes in the same commit, so a repeat finds the question (client-sends.ts)
        ...(question && clientId ? [clientSendWrite(user.id, clientId, 'chat', question.id)] : []),
      ]).catch((error: unknown) => {
        // deleted since it was checked: the conversation (a message's only foreign key) → 404, the chosen prompt → 400
        if (existing && referenceGone(error)) throw createError({ statusCode: 404, message: 'Conversation not found' })
        return unlessPromptGone(error, existing ? null : conversation.systemPromptId)
      })
  // awaited by the turn; until then a failure must not count as unhandled
  committed.catch(() => {})
  return { conversation, question, committed }
}

/**
 * Edit-and-resend: the user message `messageId` of the conversation gets `text`, and every message after it (the
 * old answer and anything later) is deleted, in one transaction. 404 for an id that is not in this conversation
 * (another user's message included); 400 for a message that is not the user's own question.
 */
async function editQuestion(conversationId: string, authorId: string, messageId: string, text: string) {
  const [target] = await useDb().select().from(messages).where(and(eq(messages.id, messageId), eq(messages.conversationId, conversationId))).limit(1)
  if (!target) throw fieldError('editMessageId', 'no such message in this conversation', 404)
  // a question someone else wrote before the conversation came to the caller stays theirs, word for word (no writer:
  // a row from before migration message_authors, the owner's)
  if (target.role !== 'user' || (target.authorId !== null && target.authorId !== authorId)) throw fieldError('editMessageId', 'must be one of your own messages')
  // one commit, no interactive transaction: on SQLite one held open across awaits freezes every other write until
  // the busy timeout (server/db/group-commit.ts); only the owner writes here, one answer at a time
  await groupCommit(db => [
    db.delete(messages).where(and(
      eq(messages.conversationId, conversationId),
      or(gt(messages.createdAt, target.createdAt), and(eq(messages.createdAt, target.createdAt), gt(messages.id, target.id))),
    )),
    db.update(messages).set({ content: text }).where(eq(messages.id, target.id)),
  ])
}

/**
 * Writes a conversation's activity time, model and prompt as the turn left them (when no answer is saved).
 * `title` names a still-unnamed conversation (a rename in the meantime wins), so a failed first turn is findable.
 */
export async function touchConversation({ id, userId, model, systemPromptId, updatedAt }: Conversation, title?: string | null) {
  const named = title ? { title: sql`case when ${conversations.title} = ${UNNAMED_TITLE} then ${title} else ${conversations.title} end` } : {}
  await useDb().update(conversations).set({ model, systemPromptId, updatedAt, ...named }).where(eq(conversations.id, id))
  if (title) publishTitle({ id, userId, title })
}

/** The title a turn that got no answer gives its conversation: the first words of the question, when unnamed. */
export const unansweredTitle = (turn: Pick<Turn, 'needsTitle' | 'userMessage'>) => (turn.needsTitle ? titleFromMessage(turn.userMessage.content) : null)

// prompts change rarely: read them at most every few seconds (an id not in the copy is looked up afresh); a change
// made through this process drops the copy at once, one made by another process shows within PROMPTS_CACHE_MS
const PROMPTS_CACHE_MS = 5_000
let promptsCache: { at: number, version: number, rows: Promise<SystemPrompt[]> } | undefined

async function systemPrompt(id: string | null, fresh = false): Promise<SystemPrompt | undefined> {
  if (fresh || !promptsCache || Date.now() - promptsCache.at > PROMPTS_CACHE_MS || promptsCache.version !== systemPromptsVersion()) {
    promptsCache = { at: Date.now(), version: systemPromptsVersion(), rows: listSystemPrompts() }
    promptsCache.rows.catch(() => { promptsCache = undefined })
  }
  const rows = await promptsCache.rows
  const found = rows.find(p => (id ? p.id === id : p.isDefault))
  // only a named prompt missing from the copy is looked up afresh: "no default prompt" is an answer the copy gives
  // (without this, a database with no default prompt re-read the whole list on every chat)
  return found || fresh || !id ? found : systemPrompt(id, true)
}

/** The system prompt with the user's own custom instructions (Ajustes → Perfil) appended. */
function withInstructions(prompt: string | undefined, instructions: string) {
  if (!instructions) return prompt
  return prompt ? `${prompt}\n\n${instructions}` : instructions
}

/**
 * Steps 2–4 of DESIGN.md "Chat streaming": load or create the conversation (only the owner writes), save the
 * user's message, and build the context. `models` is Ollama's list, or null when it cannot be reached — then
 * the message is saved anyway and the caller answers 503.
 */
export async function prepareTurn(user: Viewer, body: Body, message: string | undefined, settings: AppSettings, models: string[] | null, instructions?: string, channel: 'web' | 'sms' = 'web') {
  if (body.regenerate && !body.conversationId) throw fieldError('conversationId', 'is required to regenerate')
  if (body.editMessageId && !body.conversationId) throw fieldError('conversationId', 'is required to edit a message')
  if (body.editMessageId && body.regenerate) throw fieldError('editMessageId', 'cannot be combined with regenerate')
  if (body.editMessageId && message === undefined) throw fieldError('message', 'is required')
  // independent reads in one round trip: the scope check, the history, the chosen (or default) prompt
  const historyLimit = Math.min(settings.historyMessages, useConfig().chatHistoryMax)
  // tool rounds are stored one row per call: read enough rows for the limit after they are expanded
  const [existing, recentBefore, named] = await Promise.all([
    body.conversationId ? requireConversation(user, body.conversationId, 'write') : undefined,
    body.conversationId && !body.editMessageId ? newestMessages(body.conversationId, historyLimit * 2 + 2) : [] as Message[],
    systemPrompt(body.systemPromptId ?? null),
  ])
  let recent = recentBefore
  // the SMS conversation is answered by SMS (server/services/channels/sms.ts): read-only on the web
  if (existing?.channel === 'sms' && channel !== 'sms') throw fieldError('conversationId', 'an SMS conversation is read-only in the web app; reply by SMS', 409)
  if (body.systemPromptId && !named) throw fieldError('systemPromptId', 'no such system prompt')
  if (models && body.model && !models.includes(body.model)) throw fieldError('model', 'is not available on the model server')
  const preferences = readPreferences(user.preferences)
  // the user's preferred model for new conversations, when the model server has it
  const preferred = preferences.defaultModel && models?.includes(preferences.defaultModel) ? preferences.defaultModel : null
  const model = body.model ?? existing?.model ?? preferred ?? settings.defaultModel
  const systemPromptId = body.systemPromptId || !existing ? named?.id ?? null : existing.systemPromptId

  let userMessage: Message | undefined
  let replaceIds: string[] = []
  if (body.editMessageId && existing) {
    // the edited question is then the newest message, answered like a regenerate without an answer to replace
    await editQuestion(existing.id, user.id, body.editMessageId, message!)
    recent = await newestMessages(existing.id, historyLimit * 2 + 2)
    userMessage = recent[0]
  }
  else if (body.regenerate) {
    const i = recent.findIndex(m => m.role === 'user')
    if (i < 0) throw fieldError('regenerate', 'there is no message to answer in this conversation')
    userMessage = recent[i]
    const later = recent.slice(0, i)
    const answer = later.find(m => m.role === 'assistant')
    replaceIds = answer ? [answer.id, ...later.filter(m => m.role === 'tool').map(m => m.id)] : []
  }
  // a retry after a 503 that sends the same text again answers the saved message instead of repeating it
  else if (recent[0]?.role === 'user' && recent[0].content === message) userMessage = recent[0]

  const saved = saveQuestion(user, existing, { model, systemPromptId }, userMessage ? undefined : message!, body.clientId)
  const prompt = systemPromptId && systemPromptId !== named?.id ? await systemPrompt(systemPromptId).then(p => p ?? systemPrompt(null)) : named
  const conversation = saved.conversation
  userMessage ??= saved.question!

  // newest first: the message being answered and what came before it (a replaced answer came after)
  const from = recent.indexOf(userMessage)
  const history = historyMessages((from >= 0 ? recent.slice(from) : [userMessage, ...recent]).reverse())
  const turn: Turn = {
    user,
    conversation,
    userMessage,
    replaceIds,
    model,
    context: buildContext([withInstructions(prompt?.content, preferences.customInstructions), instructions].filter(Boolean).join('\n\n') || null, history, { numCtx: settings.numCtx, historyMessages: historyLimit }),
    // only a first exchange is titled: a conversation with messages that carries the placeholder was renamed to it
    needsTitle: conversation.title === UNNAMED_TITLE && !existing?.messageCount,
    committed: saved.committed,
  }
  if (!models || !models.includes(model)) {
    // the 503 below says the message was saved: it must be
    await saved.committed
    await touchConversation(conversation, unansweredTitle(turn))
  }
  if (!models) throw modelUnavailable(turn, 'The model server cannot be reached; your message was saved', 'ollama-down')
  if (!models.includes(model)) throw modelUnavailable(turn, `The model ${model} is not installed on the model server; your message was saved`, 'model-missing')
  return turn
}
