import type { H3Event } from 'h3'
import { and, eq } from 'drizzle-orm'
import type * as v from 'valibot'
import { uuidv7 } from 'uuidv7'
import type { ChatBody } from '#shared/schemas'
import type { ChatEvents, Usage } from '#shared/types'
import { databaseUnavailable, rootCause, useDb } from '../db/client'
import { conversations, messages, type User } from '../db/schema'
import type { Viewer } from './access'
import { type ModelStream, modelErrorMessage, openModelStream, proposeTitle } from './chat-model'
import { ChatStream, type HaltReason } from './chat-sse'
import { watchAnswer } from './chat-watch'
import { checkMessage, modelUnavailable, prepareTurn, touchConversation, type Turn } from './chat-turn'
import { titleFromMessage } from './context'
import { DEFAULT_TITLE } from './conversations'
import { GenerationQueue, type Release } from './generation-queue'
import { type AppSettings, getSettings } from './settings'
import { onShutdown, trackWork } from './shutdown'

/** The model slots of this process (limit = settings.maxConcurrentGenerations, refreshed per request). */
export const generationQueue = new GenerationQueue(1)
/**
 * Users with a generation under way (user id → that request's mark): a second one from the same user is refused
 * (429), not queued. A request clears only its own mark: once it has freed the user early (before `done`), the
 * user's next request may already hold the place.
 */
const generating = new Map<string, symbol>()
const endGenerating = (userId: string, mark: symbol) => { if (generating.get(userId) === mark) generating.delete(userId) }

const BUSY_RETRY_SECONDS = 5
// past this wait for the model's first byte the stream starts anyway (meta + pings), so a loading model is visible
const COMMIT_AFTER_MS = 1500
// no token for this long (model stuck): give up with an error
const STALL_TIMEOUT_MS = 120_000
const pingMs = () => Number(process.env.CHAT_PING_MS) || 15_000
// a reader whose socket has not drained for this long is treated as gone (back-pressure timeout)
const drainTimeoutMs = () => Number(process.env.CHAT_DRAIN_TIMEOUT_MS) || 30_000
// how often a running answer re-checks its session, its user and its conversation's owner
const watchMs = () => Number(process.env.CHAT_WATCH_MS) || 1000
// saving an answer through a database blip: 5 retries, 0.25 s doubling (about 8 s in all)
const SAVE_RETRIES = 5
const SAVE_BACKOFF_MS = 250

interface Answer {
  status: 'complete' | 'stopped' | 'error'
  text: string
  usage: Usage | null
  finishReason: string
  firstTokenMs: number | null
  durationMs: number
  error?: string
}

/** `POST /api/chat` after guard, rate limit and validation: DESIGN.md "Chat streaming" steps 2–9. */
export async function streamChat(event: H3Event, user: Viewer, body: v.InferOutput<typeof ChatBody>) {
  const settings = await getSettings()
  const message = checkMessage(body, settings)
  if (generating.has(user.id)) throw tooManyRequests(event, BUSY_RETRY_SECONDS, 'An answer is already being generated for you')
  const mark = Symbol(user.id)
  generating.set(user.id, mark)
  try {
    const stream = new ChatStream(event, pingMs(), drainTimeoutMs())
    const forget = onShutdown(() => stream.stop())
    event.node.res.once('close', forget)
    const models = await listModels().then(list => list.map(m => m.name), () => null)
    const turn = await prepareTurn(user, body, message, settings, models)
    const auth = event.context.auth
    const owner = { userId: user.id, sessionId: auth?.sessionId ?? null, tokenId: auth?.tokenId ?? null }
    const unwatch = watchAnswer(owner, turn.conversation.id, watchMs(), reason => stream.halt(reason))
    try { await trackWork(generate(stream, turn, settings, () => endGenerating(user.id, mark))) }
    finally { unwatch() }
  }
  finally {
    endGenerating(user.id, mark)
  }
}

/** What the client is told when the server stopped its answer (the text so far is saved as `stopped`). */
const HALT_MESSAGES: Record<HaltReason, string> = {
  'shutdown': 'The server is restarting; the answer so far was saved',
  'time-limit': 'The answer reached the maximum duration',
  'revoked': 'Your session ended; the answer so far was saved',
  'reassigned': 'The conversation was reassigned to someone else; the answer so far was saved in it',
  'deleted': 'The conversation was deleted',
}

type LastEvent = ['done', ChatEvents['done']] | ['error', ChatEvents['error']]

/** The event that ends a stream whose answer was generated (null only for a client that left on its own). */
function lastEvent(answer: Answer, assistantMessageId: string | null, halted: HaltReason | undefined): LastEvent | null {
  if (!assistantMessageId)
    return ['error', { message: `The answer could not be saved${halted === 'deleted' ? ': the conversation was deleted' : ''}` }]
  const done: LastEvent = ['done', { assistantMessageId, finishReason: answer.finishReason, usage: answer.usage, durationMs: answer.durationMs }]
  if (answer.status === 'complete') return done
  if (answer.status === 'error') return ['error', { message: answer.error ?? 'The model failed while answering', assistantMessageId }]
  // stopped: by the admin's time cap (a normal end, like a length cap), by another server decision, or by the client
  if (halted === 'time-limit') return ['done', { ...done[1], finishReason: 'time-limit' }]
  return halted ? ['error', { message: HALT_MESSAGES[halted], assistantMessageId }] : null
}

async function generate(stream: ChatStream, turn: Turn, settings: AppSettings, freeUser: () => void) {
  const meta = () => stream.send('meta', { conversationId: turn.conversation.id, userMessageId: turn.userMessage.id, model: turn.model })
  // every stream that was opened ends with `done` or `error`, whatever happens below
  let finished = false
  const finish = async (...[name, data]: LastEvent) => {
    finished = true
    await stream.send(name, data)
  }
  generationQueue.limit = settings.maxConcurrentGenerations
  let release: Release = () => {}
  try {
    if (generationQueue.full) {
      stream.open()
      await meta()
      try { release = await generationQueue.acquire(turn.user.id, { signal: stream.signal, onPosition: position => void stream.send('queue', { position }) }) }
      catch { // the client left (or the answer was halted) while waiting: nothing was generated
        if (stream.haltReason) await finish('error', { message: HALT_MESSAGES[stream.haltReason] })
        return await touchConversation(turn.conversation).catch(() => {})
      }
    }
    else {
      release = await generationQueue.acquire(turn.user.id)
    }
    const cap = setTimeout(() => stream.halt('time-limit'), settings.maxAnswerSeconds * 1000)
    let answer: Answer
    try {
      answer = await runModel(stream, turn, settings, meta).catch(async (error) => {
        await touchConversation(turn.conversation).catch(() => {})
        throw error
      })
    }
    finally { clearTimeout(cap) }
    const assistantMessageId = await saveWithRetry(turn, answer)
    if (turn.needsTitle && assistantMessageId) {
      const title = await nameConversation(turn, answer, stream.signal).catch(() => null)
      if (title) await stream.send('title', { title })
    }
    // free the slot and the user before the last event: a client that sends again on `done` is not refused
    release()
    freeUser()
    const last = lastEvent(answer, assistantMessageId, stream.haltReason)
    if (last) await finish(...last)
    log.info('chat answer', { userId: turn.user.id, conversationId: turn.conversation.id, model: turn.model, status: answer.status, saved: !!assistantMessageId, halted: stream.haltReason, firstTokenMs: answer.firstTokenMs, durationMs: answer.durationMs, ...answer.usage, error: answer.error })
  }
  catch (error) {
    // before the stream opened the route still answers JSON (503 and the like)
    if (!stream.isOpen) throw error
    log.error('chat stream failed', { userId: turn.user.id, conversationId: turn.conversation.id, error: String((rootCause(error) as Error)?.message ?? error).slice(0, 200) })
  }
  finally {
    release()
    if (stream.isOpen && !finished && !stream.clientGone)
      await Promise.resolve(stream.send('error', { message: stream.haltReason ? HALT_MESSAGES[stream.haltReason] : 'The answer ended unexpectedly' })).catch(() => {})
    stream.end()
  }
}

/** Streams the model's answer to the client (step 6–7); answers 503 when the model fails before the stream starts. */
async function runModel(stream: ChatStream, turn: Turn, settings: AppSettings, meta: () => unknown): Promise<Answer> {
  const abort = new AbortController()
  const stop = () => abort.abort(stream.signal.reason)
  if (stream.stopped) stop()
  stream.signal.addEventListener('abort', stop, { once: true })
  const stall = setTimeout(() => abort.abort(new Error('the model stopped answering (timeout)')), STALL_TIMEOUT_MS)
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  const tokens: string[] = []
  const answer: Answer = { status: 'complete', text: '', usage: null, finishReason: 'stop', firstTokenMs: null, durationMs: 0 }
  let iterator: ModelStream | undefined
  try {
    const opening = openModelStream({ model: turn.model, messages: turn.context, settings, signal: abort.signal })
    if (!stream.isOpen) {
      const early = await Promise.race([opening.then(() => 'ready', () => 'failed'), sleep(COMMIT_AFTER_MS)])
      if (early === 'failed' && !stream.stopped) {
        const error = await opening.then(() => null, (e: unknown) => e)
        const answered = (error as { status_code?: number } | null)?.status_code !== undefined
        throw modelUnavailable(turn, `The model server failed before answering (${modelErrorMessage(error)}); your message was saved`, answered ? 'model-error' : 'ollama-down')
      }
      stream.open()
      await meta()
    }
    iterator = await opening
    stream.signal.addEventListener('abort', () => iterator?.abort(), { once: true })
    for await (const part of iterator) {
      const t = part.message?.content
      if (t) {
        stall.refresh()
        answer.firstTokenMs ??= elapsed()
        tokens.push(t)
        await stream.send('token', { t })
      }
      if (part.done) {
        answer.usage = { promptTokens: part.prompt_eval_count ?? 0, completionTokens: part.eval_count ?? tokens.length }
        answer.finishReason = part.done_reason || 'stop'
      }
    }
  }
  catch (error) {
    if (isError(error) && error.statusCode === 503) throw error
    answer.status = stream.stopped ? 'stopped' : 'error'
    if (answer.status === 'error') answer.error = modelErrorMessage(abort.signal.aborted ? abort.signal.reason : error)
  }
  finally {
    clearTimeout(stall)
    stream.signal.removeEventListener('abort', stop)
  }
  answer.text = tokens.join('')
  answer.durationMs = elapsed()
  return answer
}

/**
 * Step 8 with retries: a database blip (connection lost, restarting) is retried with back-off; anything else, or
 * a database still gone after the retries, gives up. Returns the saved message's id, or null when not saved.
 */
async function saveWithRetry(turn: Turn, answer: Answer): Promise<string | null> {
  for (let attempt = 0; ; attempt++) {
    try { return await saveAnswer(turn, answer) }
    catch (error) {
      const cause = rootCause(error) as { code?: string, message?: string }
      if (!databaseUnavailable(error) || attempt >= SAVE_RETRIES) {
        log.error('chat answer not saved', { userId: turn.user.id, conversationId: turn.conversation.id, attempts: attempt + 1, error: `${cause?.code ?? ''} ${String(cause?.message ?? '').split('\n')[0]!.slice(0, 200)}`.trim() })
        return null
      }
      await sleep(SAVE_BACKOFF_MS * 2 ** attempt)
    }
  }
}

/** Step 8: the answer is written once, at the end; a regenerated answer replaces the previous one. */
async function saveAnswer(turn: Turn, answer: Answer) {
  const id = uuidv7()
  const now = new Date()
  await useDb().transaction(async (tx) => {
    if (turn.replaceId) await tx.delete(messages).where(eq(messages.id, turn.replaceId))
    await tx.insert(messages).values({
      id,
      conversationId: turn.conversation.id,
      role: 'assistant',
      content: answer.text,
      status: answer.status,
      model: turn.model,
      promptTokens: answer.usage?.promptTokens ?? null,
      completionTokens: answer.usage?.completionTokens ?? null,
      firstTokenMs: answer.firstTokenMs,
      durationMs: answer.durationMs,
      createdAt: now,
    })
    const { model, systemPromptId } = turn.conversation
    await tx.update(conversations).set({ model, systemPromptId, updatedAt: now }).where(eq(conversations.id, turn.conversation.id))
  })
  return id
}

/** Step 9: a short title from the model after a complete first answer, else the first words of the message. */
async function nameConversation(turn: Turn, answer: Answer, signal: AbortSignal) {
  const proposed = answer.status === 'complete' && !signal.aborted
    ? await proposeTitle(turn.model, turn.userMessage.content, answer.text, signal)
    : null
  const title = proposed ?? titleFromMessage(turn.userMessage.content)
  // only a still-unnamed conversation: a rename during the answer wins
  await useDb().update(conversations).set({ title })
    .where(and(eq(conversations.id, turn.conversation.id), eq(conversations.title, DEFAULT_TITLE)))
  return title
}

const sleep = (ms: number) => new Promise<'slow'>(resolve => setTimeout(resolve, ms, 'slow').unref())
