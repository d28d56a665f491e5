import type { H3Event } from 'h3'
import { and, eq } from 'drizzle-orm'
import type * as v from 'valibot'
import { uuidv7 } from 'uuidv7'
import type { ChatBody } from '#shared/schemas'
import type { Usage } from '#shared/types'
import { useDb } from '../db/client'
import { conversations, messages, type User } from '../db/schema'
import type { Viewer } from './access'
import { type ModelStream, modelErrorMessage, openModelStream, proposeTitle } from './chat-model'
import { ChatStream } from './chat-sse'
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
    const stream = new ChatStream(event, pingMs())
    const forget = onShutdown(() => stream.stop())
    event.node.res.once('close', forget)
    const models = await listModels().then(list => list.map(m => m.name), () => null)
    const turn = await prepareTurn(user, body, message, settings, models)
    await trackWork(generate(stream, turn, settings, () => endGenerating(user.id, mark)))
  }
  finally {
    endGenerating(user.id, mark)
  }
}

async function generate(stream: ChatStream, turn: Turn, settings: AppSettings, freeUser: () => void) {
  const meta = () => stream.send('meta', { conversationId: turn.conversation.id, userMessageId: turn.userMessage.id, model: turn.model })
  generationQueue.limit = settings.maxConcurrentGenerations
  let release: Release
  if (generationQueue.full) {
    stream.open()
    await meta()
    try { release = await generationQueue.acquire(turn.user.id, { signal: stream.signal, onPosition: position => void stream.send('queue', { position }) }) }
    catch { // the client left while waiting: nothing was generated
      stream.end()
      return touchConversation(turn.conversation)
    }
  }
  else {
    release = await generationQueue.acquire(turn.user.id)
  }
  try {
    const answer = await runModel(stream, turn, settings, meta).catch(async (error) => {
      await touchConversation(turn.conversation)
      throw error
    })
    const assistantMessageId = await saveAnswer(turn, answer)
    if (turn.needsTitle) {
      const title = await nameConversation(turn, answer, stream.signal)
      await stream.send('title', { title })
    }
    // free the slot and the user before the last event: a client that sends again on `done` is not refused
    release()
    freeUser()
    if (answer.status === 'complete')
      await stream.send('done', { assistantMessageId, finishReason: answer.finishReason, usage: answer.usage, durationMs: answer.durationMs })
    else if (answer.status === 'error')
      await stream.send('error', { message: answer.error ?? 'The model failed while answering', assistantMessageId })
    log.info('chat answer', { userId: turn.user.id, conversationId: turn.conversation.id, model: turn.model, status: answer.status, firstTokenMs: answer.firstTokenMs, durationMs: answer.durationMs, ...answer.usage, error: answer.error })
  }
  finally {
    release()
    stream.end()
  }
}

/** Streams the model's answer to the client (step 6–7); answers 503 when the model fails before the stream starts. */
async function runModel(stream: ChatStream, turn: Turn, settings: AppSettings, meta: () => unknown): Promise<Answer> {
  const abort = new AbortController()
  const stop = () => abort.abort(stream.signal.reason)
  if (stream.clientGone) stop()
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
      if (early === 'failed' && !stream.clientGone) {
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
    answer.status = stream.clientGone ? 'stopped' : 'error'
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
