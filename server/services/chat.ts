import type { StreamErrorReason } from '#shared/errors'
import type { H3Event } from 'h3'
import type * as v from 'valibot'
import type { ChatBody } from '#shared/schemas'
import type { ChatEvents } from '#shared/types'
import type { Viewer } from './access'
import { ChatStream, type HaltReason } from './chat-sse'
import { watchAnswer } from './chat-watch'
import { runTurn, type TurnResult } from './orchestrator'
import { getSettings } from './settings'
import { onStopRequest, useGenerationSlots } from './coordination'
import { onShutdown } from './shutdown'

/**
 * The web channel of the orchestrator: `POST /api/chat` as server-sent events.
 * A user with a generation under way (on any app process: coordination.ts) is refused a second one (429), not
 * queued. A request clears only its own mark: once it has freed the user early (before `done`), the user's next
 * request may already hold the place.
 */

const BUSY_RETRY_SECONDS = 5
// CHAT_PING_MS: keep-alive; CHAT_DRAIN_TIMEOUT_MS: a reader whose socket has not drained for this long is treated
// as gone (back-pressure timeout); CHAT_WATCH_MS: how often a running answer re-checks its session, user and owner
const chatTiming = () => useConfig().chat

/** What the client is told when the server stopped its answer (the text so far is saved as `stopped`). */
const HALT_MESSAGES: Record<HaltReason, string> = {
  'shutdown': 'The server is restarting; the answer so far was saved',
  'time-limit': 'The answer reached the maximum duration',
  'revoked': 'Your session ended; the answer so far was saved',
  'reassigned': 'The conversation was reassigned to someone else; the answer so far was saved in it',
  'deleted': 'The conversation was deleted',
  'stopped': 'The answer was stopped; the text so far was saved',
}

/** The user's one-answer mark, or 429 when they already have an answer under way. */
async function claimUser(event: H3Event, userId: string) {
  const release = await useGenerationSlots().claimUser(userId).catch((error: unknown) => {
    log.error('generation slots unreachable', { error: String((error as Error)?.message ?? error).slice(0, 200) })
    throw createError({ statusCode: 503, message: 'The answer queue cannot be reached; try again shortly', data: { reason: 'queue-down' } })
  })
  if (!release) throw tooManyRequests(event, BUSY_RETRY_SECONDS, 'An answer is already being generated for you')
  return release
}
const HALT_REASONS: Record<HaltReason, StreamErrorReason> = {
  'shutdown': 'server-restarting',
  'time-limit': 'answer-interrupted',
  'revoked': 'session-revoked',
  'reassigned': 'reassigned',
  'deleted': 'deleted',
  'stopped': 'answer-interrupted',
}

/**
 * `POST /api/chat` after guard, rate limit and validation. Errors the orchestrator finds before the turn commits
 * answer as plain JSON; from `meta` on, every event goes down the stream, and every opened stream ends with
 * `done` or `error` (halts by the server included: time cap, revocation, reassignment, deletion, shutdown).
 */
export async function streamChat(event: H3Event, user: Viewer, body: v.InferOutput<typeof ChatBody>) {
  const endGenerating = await claimUser(event, user.id)
  const { maxAnswerSeconds } = await getSettings()
  const timing = chatTiming()
  const stream = new ChatStream(event, timing.pingMs, timing.drainTimeoutMs)
  const forget = onShutdown(() => stream.stop())
  event.node.res.once('close', forget)
  const auth = event.context.auth
  const owner = { userId: user.id, sessionId: auth?.sessionId ?? null, tokenId: auth?.tokenId ?? null }
  let unwatch = () => {}
  let unstop = () => {}
  // the time cap counts the answer, not the wait for a model slot
  let cap: NodeJS.Timeout | undefined
  const armCap = () => { cap ??= setTimeout(() => stream.halt('time-limit'), maxAnswerSeconds * 1000) }
  const disarmCap = () => { clearTimeout(cap); cap = undefined }
  let finished = false
  // a stopped or halted answer's last event (`done` or `error`) is sent below, once the turn has returned: its title
  // waits for it, so `title` comes after `done`/`error` as on every stream (docs/api.md "Title")
  let heldTitle: ChatEvents['title'] | undefined
  let result: TurnResult | undefined
  try {
    result = await runTurn({
      user,
      channel: 'web',
      conversationId: body.conversationId,
      text: body.message,
      model: body.model,
      systemPromptId: body.systemPromptId,
      regenerate: body.regenerate,
      editMessageId: body.editMessageId,
      clientId: body.clientId,
      signal: stream.signal,
      onTextEnd: () => stream.flush(),
      onEvent: ({ type, data }) => {
        if (type === 'meta') {
          stream.open()
          unwatch = watchAnswer(owner, data.conversationId, timing.watchMs, reason => stream.halt(reason))
          // POST /api/chat/:conversationId/stop, from any process
          unstop = onStopRequest(data.conversationId, () => stream.halt('stopped'))
          armCap()
        }
        else if (type === 'queue') disarmCap()
        else if (type === 'token' || type === 'tool') armCap()
        if (type === 'title' && !finished) {
          heldTitle = data as ChatEvents['title']
          return
        }
        if (type === 'done' || type === 'error') {
          finished = true
          // free the user before the last event: a client that sends again on `done` is not refused
          return Promise.resolve(endGenerating()).then(() => stream.send(type, data as never))
        }
        return stream.send(type, data as never)
      },
    })
  }
  catch (error) {
    // before the stream opened the route still answers JSON (503 and the like)
    if (!stream.isOpen) throw error
    log.error('chat stream failed', { userId: user.id, error: String((error as Error)?.message ?? error).slice(0, 200) })
  }
  finally {
    unwatch()
    unstop()
    disarmCap()
    void endGenerating()
    if (stream.isOpen && !finished && !stream.clientGone) {
      const [name, data] = closingEvent(result, stream.haltReason)
      await Promise.resolve(name === 'done' ? stream.send('done', data as ChatEvents['done']) : stream.send('error', data as ChatEvents['error'])).catch(() => {})
    }
    if (heldTitle && stream.isOpen && !stream.clientGone) await Promise.resolve(stream.send('title', heldTitle)).catch(() => {})
    stream.end()
  }
}

type LastEvent = ['done', ChatEvents['done']] | ['error', ChatEvents['error']]

/** The last event of a stream the orchestrator did not end itself: the answer was stopped, or the turn failed. */
function closingEvent(result: TurnResult | undefined, halted: HaltReason | undefined): LastEvent {
  const saved = result?.assistantMessage
  // the admin's time cap is a normal end, like a length cap; so is the user's own stop
  if (saved && (halted === 'time-limit' || halted === 'stopped')) {
    const usage = saved.promptTokens === null ? null : { promptTokens: saved.promptTokens, completionTokens: saved.completionTokens ?? 0 }
    return ['done', { assistantMessageId: saved.id, finishReason: halted, usage, durationMs: saved.durationMs ?? 0 }]
  }
  const message = halted ? HALT_MESSAGES[halted] : 'The answer ended unexpectedly'
  const reason = halted ? HALT_REASONS[halted] : 'answer-interrupted'
  return ['error', saved ? { message, reason, assistantMessageId: saved.id } : { message, reason }]
}
