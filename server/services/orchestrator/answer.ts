import type { Usage } from '#shared/types'
import { uuidv7 } from 'uuidv7'
import type { Turn } from '../chat-turn'
import { type ModelStream, modelErrorMessage, openModelStream } from '../chat-model'
import { modelUnavailable, touchConversation, unansweredTitle } from '../chat-turn'
import type { ContextMessage } from '../context'
import { useGenerationSlots } from '../coordination'
import type { AppSettings } from '../settings'
import { offeredTools } from './agents'
import type { Emit, TurnInput, TurnResult } from './index'
import { checkpointMs, nameConversation, saveAnswerWithRetry, saveCheckpoint } from './persist'
import { holdUntil } from './hold'
import { stallWatch } from './stall'
import { type AgentTool, runToolCall, toolCallLine, type ToolRecord } from './tools'

/** At most this many rounds of tool calls per answer; the next model call is offered no tools. */
export const MAX_TOOL_ROUNDS = 4
// past this wait for the model's first byte the turn commits anyway (meta), so a loading model is visible
const COMMIT_AFTER_MS = 1500
// no token for this long (model stuck): give up with an error
const STALL_TIMEOUT_MS = 120_000

export interface Answer {
  /** The assistant message's id, chosen before the first token (checkpoints and the final save share it). */
  id: string
  status: 'complete' | 'stopped' | 'error'
  text: string
  usage: Usage | null
  finishReason: string
  firstTokenMs: number | null
  durationMs: number
  /** Tool calls made while answering, in order (saved as `tool` messages before the answer). */
  tools: ToolRecord[]
  error?: string
  /** The checkpoint being written, if any (the final save waits for it). */
  checkpoint?: Promise<void>
}

/** DESIGN.md "Chat streaming" steps 5–9 for a prepared turn: slot, model (+ tool rounds), save, title, done. */
export async function answerTurn(turn: Turn, settings: AppSettings, input: TurnInput, emit: Emit): Promise<TurnResult> {
  const signal = input.signal ?? new AbortController().signal
  let committed = false
  let committing: Promise<void> | undefined
  // the turn is shown (meta, then tokens) only once the user's message is committed; a failed commit is thrown
  const commit = () => (committing ??= (async () => {
    try { await turn.committed }
    catch (error) { throw new QuestionNotSaved(error) }
    committed = true
    await emit('meta', { conversationId: turn.conversation.id, userMessageId: turn.userMessage.id, model: turn.model })
  })())
  const result = (assistantMessage: TurnResult['assistantMessage'], status: TurnResult['status'], title: string | null = null): TurnResult =>
    ({ conversation: { id: turn.conversation.id, title: title ?? turn.conversation.title }, userMessage: turn.userMessage, assistantMessage, status, title })

  // the model slots (limit = settings.maxConcurrentGenerations, per process or across processes: coordination.ts)
  let release
  try {
    release = await useGenerationSlots().acquire(turn.user.id, {
      limit: settings.maxConcurrentGenerations,
      signal,
      beforeWait: () => commit().catch((error: unknown) => { throw error instanceof QuestionNotSaved ? error.cause : error }),
      onPosition: position => void emit('queue', { position }),
    })
  }
  catch (error) {
    if (!signal.aborted) throw error
    // aborted while waiting: nothing was generated
    await touchConversation(turn.conversation, unansweredTitle(turn))
    return result(null, 'stopped')
  }
  try {
    const tools = await offeredTools(turn.user, settings)
    const answer = await runModel({ turn, settings, tools, signal, committed: () => committed, commit, emit, channel: input.channel })
    input.onTextEnd?.()
    const assistantMessage = await saveAnswerWithRetry(turn, answer)
    if (!assistantMessage) {
      await release()
      await emit('error', { message: 'The answer could not be saved', reason: 'save-failed' })
      return result(null, 'error')
    }
    // free the slot and send `done` as soon as the answer is saved: the title (its own model call) comes after
    // (API.md allows `title` after `done`; the stream closes after it). A client that sends again on `done` is not
    // queued behind itself.
    await release()
    if (answer.status === 'complete')
      await emit('done', { assistantMessageId: assistantMessage.id, finishReason: answer.finishReason, usage: answer.usage, durationMs: answer.durationMs })
    else if (answer.status === 'error')
      await emit('error', { message: answer.error ?? 'The model failed while answering', reason: 'model-error', assistantMessageId: assistantMessage.id })
    let title: string | null = null
    if (turn.needsTitle) {
      title = await nameConversation(turn, answer, signal)
      await emit('title', { title })
    }
    log.info('chat answer', {
      userId: turn.user.id, conversationId: turn.conversation.id, channel: input.channel, model: turn.model, status: answer.status,
      firstTokenMs: answer.firstTokenMs, durationMs: answer.durationMs, toolCalls: answer.tools.length, ...answer.usage, error: answer.error,
    })
    return result(assistantMessage, answer.status, title)
  }
  finally {
    void release()
  }
}

interface ModelRun {
  turn: Turn
  settings: AppSettings
  tools: AgentTool[]
  signal: AbortSignal
  committed: () => boolean
  commit: () => Promise<void>
  emit: Emit
  channel: TurnInput['channel']
}

/**
 * Steps 6–7 with tool rounds: stream the model's answer; when it calls tools, run them as the user, append the
 * call and the results to the messages and ask again (at most MAX_TOOL_ROUNDS times). Throws 503 only when the
 * model fails before the turn is committed.
 */
async function runModel({ turn, settings, tools, signal, committed, commit, emit, channel }: ModelRun): Promise<Answer> {
  const abort = new AbortController()
  const stop = () => abort.abort(signal.reason)
  if (signal.aborted) stop()
  signal.addEventListener('abort', stop, { once: true })
  const stall = stallWatch(STALL_TIMEOUT_MS, () => abort.abort(new Error('the model stopped answering (timeout)')))
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  const tokens: string[] = []
  let lastCheckpoint = started
  let checkpointing = false
  const answer: Answer = { id: uuidv7(), status: 'complete', text: '', usage: null, finishReason: 'stop', firstTokenMs: null, durationMs: 0, tools: [] }
  const messages: ContextMessage[] = [...turn.context]
  let iterator: ModelStream | undefined
  const abortIterator = () => iterator?.abort()
  abort.signal.addEventListener('abort', abortIterator, { once: true })
  try {
    for (let round = 0; ; round++) {
      const offered = round < MAX_TOOL_ROUNDS ? tools : []
      const opening = openModelStream({ model: turn.model, messages, tools: offered, settings, signal: abort.signal })
      let gate: Promise<void> | undefined
      if (!committed()) {
        const early = await Promise.race([opening.then(() => 'ready', () => 'failed'), sleep(COMMIT_AFTER_MS)])
        if (early === 'failed' && !signal.aborted) {
          // the 503 says the message was saved: it must be (no `meta`: the route still answers JSON)
          await turn.committed.catch((e: unknown) => { throw new QuestionNotSaved(e) })
          const error = await opening.then(() => null, (e: unknown) => e)
          const answered = (error as { status_code?: number } | null)?.status_code !== undefined
          throw modelUnavailable(turn, `The model server failed before answering (${modelErrorMessage(error)}); your message was saved`, answered ? 'model-error' : 'ollama-down')
        }
        // not awaited here: the model's first parts are read (and held) while the question commits
        gate = commit()
        gate.catch(() => {})
      }
      try { iterator = await opening }
      catch (error) { await gate; throw error } // a failed commit wins: it is what the client is told
      if (abort.signal.aborted) iterator.abort()
      const calls: Array<{ name: string, arguments: Record<string, unknown> }> = []
      let roundText = ''
      for await (const part of gate ? holdUntil(iterator, gate) : iterator) {
        const t = part.text
        if (t) {
          const now = performance.now()
          stall.progress(now)
          answer.firstTokenMs ??= Math.round(now - started)
          tokens.push(t)
          roundText += t
          if (!checkpointing && now - lastCheckpoint >= checkpointMs()) {
            // a long answer is saved as it grows (not awaited: the stream goes on; one checkpoint at a time)
            checkpointing = true
            lastCheckpoint = now
            answer.checkpoint = saveCheckpoint(turn, answer, tokens.join('')).finally(() => { checkpointing = false })
          }
          const sent = emit('token', { t })
          if (sent) await sent
        }
        if (part.toolCalls) calls.push(...part.toolCalls)
        if (part.done) {
          const usage = answer.usage ?? { promptTokens: 0, completionTokens: 0 }
          answer.usage = { promptTokens: usage.promptTokens + (part.done.promptTokens ?? 0), completionTokens: usage.completionTokens + (part.done.completionTokens ?? tokens.length) }
          answer.finishReason = part.done.reason
        }
      }
      if (!calls.length || !offered.length) break
      messages.push({ role: 'assistant', content: roundText, tool_calls: calls.map(c => ({ function: c })) })
      for (const call of calls) {
        await emit('tool', { name: call.name, status: 'running' })
        const record = await runToolCall(offered, call, { user: turn.user, channel }, round)
        stall.progress()
        answer.tools.push(record)
        await emit('tool', toolCallLine(record, record.ok))
        messages.push({ role: 'tool', content: JSON.stringify(record.result), tool_name: call.name })
      }
    }
  }
  catch (error) {
    if (error instanceof QuestionNotSaved) {
      // the user's message could not be committed: stop the model request started meanwhile, answer as before
      stop()
      throw error.cause
    }
    if (isError(error) && error.statusCode === 503) throw error
    answer.status = signal.aborted ? 'stopped' : 'error'
    if (answer.status === 'error') answer.error = modelErrorMessage(abort.signal.aborted ? abort.signal.reason : error)
  }
  finally {
    stall.clear()
    signal.removeEventListener('abort', stop)
    abort.signal.removeEventListener('abort', abortIterator)
  }
  answer.text = tokens.join('')
  answer.durationMs = elapsed()
  return answer
}

/** The user's message could not be committed: the turn answers that error, as it did before streaming. */
class QuestionNotSaved extends Error {
  constructor(cause: unknown) { super('the message could not be saved', { cause }) }
}

const sleep = (ms: number) => new Promise<'slow'>(resolve => setTimeout(resolve, ms, 'slow').unref())
