import type { ChatEventName, ChatEvents } from '#shared/types'
import type { Message } from '../../db/schema'
import type { Viewer } from '../access'
import { checkMessage, prepareTurn, touchConversation, unansweredTitle } from '../chat-turn'
import { getSettings } from '../settings'
import { trackWork } from '../shutdown'
import { answerTurn } from './answer'

/**
 * The orchestrator: the only place that turns "user U said X on channel C" into saved messages, a model call with
 * history (≤ CHAT_HISTORY_MAX), tool rounds (≤ 4, agents/) and the answer. The web chat (`services/chat.ts`) and
 * the SMS channel both call `runTurn`; neither talks to the model itself.
 *
 * Signature (stable):
 *
 *   runTurn({ user, channel, conversationId?, text?, model?, systemPromptId?, regenerate?, instructions?, signal?, onEvent? })
 *     → Promise<TurnResult>  — `{ conversation, userMessage, assistantMessage, status, title }`
 *
 * - `user` is the Viewer (permissions read on this request); the turn and every tool run as this user.
 * - `channel`: 'web' | 'sms'. Tools and history are the same on both.
 * - `conversationId` absent → a new conversation owned by the user. Only the owner writes into one (else 403/404).
 * - `text` is the user's message (undefined only with `regenerate: true`, which answers the newest user message of
 *   the conversation: a channel that saved the message itself, e.g. a durable SMS job, answers it this way).
 * - `instructions`: extra system text for this channel, appended to the conversation's system prompt.
 * - `signal` aborting (client gone, shutdown) stops the model; what was generated is saved with status `stopped`.
 * - `onEvent` receives the events of API.md "Chat" in order: meta, queue*, token*, tool*, title?, done | error.
 *   `meta` is emitted once the turn is committed (the model answered, or it is slow, or the turn must queue); a
 *   caller streaming to a browser opens its stream then. It may return a promise (backpressure).
 *
 * Throws (before `meta` only) an h3 error: 400 bad input (field named), 403/404 conversation scope, 503 when the
 * model server cannot be reached — the user's message is saved then (`data.conversationId`, `data.userMessageId`).
 * After `meta` it never throws for model failures: the answer is saved with status `error` and the result says so
 * (`status: 'error'`); a channel that retries later can `regenerate`, which replaces that answer.
 * `assistantMessage` is null only when `signal` aborted while the turn waited for a model slot (nothing generated).
 */
export async function runTurn(input: TurnInput): Promise<TurnResult> {
  const settings = await getSettings()
  const message = checkMessage({ message: input.text, regenerate: input.regenerate }, settings)
  // the cached model lists; a name nobody lists (yet) refreshes them first
  const models = await listModels([input.model, settings.defaultModel]).then(list => list.map(m => m.name), () => null)
  const turn = await prepareTurn(input.user, {
    message: input.text,
    conversationId: input.conversationId,
    model: input.model,
    systemPromptId: input.systemPromptId,
    regenerate: input.regenerate,
    editMessageId: input.editMessageId,
    clientId: input.clientId,
  }, message, settings, models, input.instructions, input.channel)
  // not an async wrapper: a token whose write did not block costs no promise (it is emitted ~200 times an answer)
  const emit: Emit = (type, data) => input.onEvent?.({ type, data } as TurnEvent)
  try {
    return await trackWork(answerTurn(turn, settings, input, emit))
  }
  catch (error) {
    // a 503 raised while opening the model: the conversation still shows the saved question as its latest activity
    await touchConversation(turn.conversation, unansweredTitle(turn)).catch(() => {})
    throw error
  }
}

export type Channel = 'web' | 'sms'

/** One event of the chat stream (API.md "Chat"), typed by name. */
export type TurnEvent = { [K in ChatEventName]: { type: K, data: ChatEvents[K] } }[ChatEventName]
/** Sends one event; a promise when the caller must wait (backpressure), else nothing. */
export type Emit = <K extends ChatEventName>(type: K, data: ChatEvents[K]) => void | Promise<void>

export interface TurnInput {
  user: Viewer
  channel: Channel
  conversationId?: string
  /** The user's message; undefined only with `regenerate`. */
  text?: string
  model?: string
  systemPromptId?: string
  regenerate?: boolean
  /** Edit-and-resend: the user message that takes `text` (later messages are deleted first). */
  editMessageId?: string
  /** The offline outbox's id for the message, recorded with it (server/services/client-sends.ts). */
  clientId?: string
  /** Extra system instructions for this channel (e.g. SMS: short plain text), after the conversation's prompt. */
  instructions?: string
  signal?: AbortSignal
  onEvent?: (event: TurnEvent) => void | Promise<void>
  /** The model's text is complete (before it is saved): a channel that holds tokens back sends them now. */
  onTextEnd?: () => void
}

export interface TurnResult {
  conversation: { id: string, title: string }
  userMessage: Message
  /** The saved answer; null when the turn was aborted before the model started. */
  assistantMessage: Message | null
  status: 'complete' | 'stopped' | 'error'
  /** Set on the first exchange of a conversation: the title it got. */
  title: string | null
}
