import type { H3Event } from 'h3'
import type * as v from 'valibot'
import type { ChatBody } from '#shared/schemas'
import type { Viewer } from './access'
import { ChatStream } from './chat-sse'
import { runTurn } from './orchestrator'
import { onShutdown } from './shutdown'

/** The model slots now live with the orchestrator; re-exported for code that still imports them from here. */
export { generationQueue } from './orchestrator/answer'

/**
 * The web channel of the orchestrator: `POST /api/chat` as server-sent events.
 * Users with a generation under way (user id → that request's mark): a second one from the same user is refused
 * (429), not queued. A request clears only its own mark: once it has freed the user early (before `done`), the
 * user's next request may already hold the place.
 */
const generating = new Map<string, symbol>()
const endGenerating = (userId: string, mark: symbol) => { if (generating.get(userId) === mark) generating.delete(userId) }

const BUSY_RETRY_SECONDS = 5
const pingMs = () => Number(process.env.CHAT_PING_MS) || 15_000

/**
 * `POST /api/chat` after guard, rate limit and validation. Errors the orchestrator finds before the turn commits
 * answer as plain JSON; from `meta` on, every event goes down the stream.
 */
export async function streamChat(event: H3Event, user: Viewer, body: v.InferOutput<typeof ChatBody>) {
  if (generating.has(user.id)) throw tooManyRequests(event, BUSY_RETRY_SECONDS, 'An answer is already being generated for you')
  const mark = Symbol(user.id)
  generating.set(user.id, mark)
  const stream = new ChatStream(event, pingMs())
  const forget = onShutdown(() => stream.stop())
  event.node.res.once('close', forget)
  try {
    await runTurn({
      user,
      channel: 'web',
      conversationId: body.conversationId,
      text: body.message,
      model: body.model,
      systemPromptId: body.systemPromptId,
      regenerate: body.regenerate,
      signal: stream.signal,
      onEvent: ({ type, data }) => {
        if (type === 'meta') stream.open()
        // free the user before the last event: a client that sends again on `done` is not refused
        if (type === 'done' || type === 'error') endGenerating(user.id, mark)
        return stream.send(type, data as never)
      },
    })
  }
  finally {
    endGenerating(user.id, mark)
    stream.end()
  }
}
