import type { Usage } from '#shared/types'
import type { Turn } from '../chat-turn'
import { touchConversation } from '../chat-turn'
import { type ModelStream, modelErrorMessage, openModelStream } from '../chat-model'
import { modelUnavailable } from '../chat-turn'
import type { ContextMessage } from '../context'
import { GenerationQueue, type Release } from '../generation-queue'
import type { AppSettings } from '../settings'
import { offeredTools } from './agents'
import type { Emit, TurnInput, TurnResult } from './index'
import { nameConversation, saveAnswerWithRetry } from './persist'
import { type AgentTool, runToolCall, type ToolRecord } from './tools'

/** The model slots of this process (limit = settings.maxConcurrentGenerations, refreshed per turn). */
export const generationQueue = new GenerationQueue(1)

/** At most this many rounds of tool calls per answer; the next model call is offered no tools. */
export const MAX_TOOL_ROUNDS = 4
// past this wait for the model's first byte the turn commits anyway (meta), so a loading model is visible
const COMMIT_AFTER_MS = 1500
// no token for this long (model stuck): give up with an error
const STALL_TIMEOUT_MS = 120_000

export interface Answer {
  status: 'complete' | 'stopped' | 'error'
  text: string
  usage: Usage | null
  finishReason: string
  firstTokenMs: number | null
  durationMs: number
  /** Tool calls made while answering, in order (saved as `tool` messages before the answer). */
  tools: ToolRecord[]
  error?: string
}

/** DESIGN.md "Chat streaming" steps 5–9 for a prepared turn: slot, model (+ tool rounds), save, title, done. */
export async function answerTurn(turn: Turn, settings: AppSettings, input: TurnInput, emit: Emit): Promise<TurnResult> {
  const signal = input.signal ?? new AbortController().signal
  let committed = false
  const commit = async () => {
    if (committed) return
    committed = true
    await emit('meta', { conversationId: turn.conversation.id, userMessageId: turn.userMessage.id, model: turn.model })
  }
  const result = (assistantMessage: TurnResult['assistantMessage'], status: TurnResult['status'], title: string | null = null): TurnResult =>
    ({ conversation: { id: turn.conversation.id, title: title ?? turn.conversation.title }, userMessage: turn.userMessage, assistantMessage, status, title })

  generationQueue.limit = settings.maxConcurrentGenerations
  let release: Release
  if (generationQueue.full) {
    await commit()
    try { release = await generationQueue.acquire(turn.user.id, { signal, onPosition: position => void emit('queue', { position }) }) }
    catch { // aborted while waiting: nothing was generated
      await touchConversation(turn.conversation)
      return result(null, 'stopped')
    }
  }
  else {
    release = await generationQueue.acquire(turn.user.id)
  }
  try {
    const tools = await offeredTools(turn.user, settings)
    const answer = await runModel({ turn, settings, tools, signal, committed: () => committed, commit, emit, channel: input.channel })
    const assistantMessage = await saveAnswerWithRetry(turn, answer)
    if (!assistantMessage) {
      release()
      await emit('error', { message: 'The answer could not be saved', reason: 'save-failed' })
      return result(null, 'error')
    }
    let title: string | null = null
    if (turn.needsTitle) {
      title = await nameConversation(turn, answer, signal)
      await emit('title', { title })
    }
    // free the slot before the last event: a client that sends again on `done` is not queued behind itself
    release()
    if (answer.status === 'complete')
      await emit('done', { assistantMessageId: assistantMessage.id, finishReason: answer.finishReason, usage: answer.usage, durationMs: answer.durationMs })
    else if (answer.status === 'error')
      await emit('error', { message: answer.error ?? 'The model failed while answering', reason: 'model-error', assistantMessageId: assistantMessage.id })
    log.info('chat answer', {
      userId: turn.user.id, conversationId: turn.conversation.id, channel: input.channel, model: turn.model, status: answer.status,
      firstTokenMs: answer.firstTokenMs, durationMs: answer.durationMs, toolCalls: answer.tools.length, ...answer.usage, error: answer.error,
    })
    return result(assistantMessage, answer.status, title)
  }
  finally {
    release()
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
  const stall = setTimeout(() => abort.abort(new Error('the model stopped answering (timeout)')), STALL_TIMEOUT_MS)
  const started = performance.now()
  const elapsed = () => Math.round(performance.now() - started)
  const tokens: string[] = []
  const answer: Answer = { status: 'complete', text: '', usage: null, finishReason: 'stop', firstTokenMs: null, durationMs: 0, tools: [] }
  const messages: ContextMessage[] = [...turn.context]
  let iterator: ModelStream | undefined
  const abortIterator = () => iterator?.abort()
  abort.signal.addEventListener('abort', abortIterator, { once: true })
  try {
    for (let round = 0; ; round++) {
      const offered = round < MAX_TOOL_ROUNDS ? tools : []
      const opening = openModelStream({ model: turn.model, messages, tools: offered, settings, signal: abort.signal })
      if (!committed()) {
        const early = await Promise.race([opening.then(() => 'ready', () => 'failed'), sleep(COMMIT_AFTER_MS)])
        if (early === 'failed' && !signal.aborted) {
          const error = await opening.then(() => null, (e: unknown) => e)
          const answered = (error as { status_code?: number } | null)?.status_code !== undefined
          throw modelUnavailable(turn, `The model server failed before answering (${modelErrorMessage(error)}); your message was saved`, answered ? 'model-error' : 'ollama-down')
        }
        await commit()
      }
      iterator = await opening
      if (abort.signal.aborted) iterator.abort()
      const calls: Array<{ name: string, arguments: Record<string, unknown> }> = []
      let roundText = ''
      for await (const part of iterator) {
        const t = part.message?.content
        if (t) {
          stall.refresh()
          answer.firstTokenMs ??= elapsed()
          tokens.push(t)
          roundText += t
          await emit('token', { t })
        }
        for (const call of part.message?.tool_calls ?? []) calls.push({ name: call.function.name, arguments: call.function.arguments ?? {} })
        if (part.done) {
          const usage = answer.usage ?? { promptTokens: 0, completionTokens: 0 }
          answer.usage = { promptTokens: usage.promptTokens + (part.prompt_eval_count ?? 0), completionTokens: usage.completionTokens + (part.eval_count ?? tokens.length) }
          answer.finishReason = part.done_reason || 'stop'
        }
      }
      if (!calls.length || !offered.length) break
      messages.push({ role: 'assistant', content: roundText, tool_calls: calls.map(c => ({ function: c })) })
      for (const call of calls) {
        await emit('tool', { name: call.name, status: 'running' })
        const record = await runToolCall(offered, call, { user: turn.user, channel }, round)
        stall.refresh()
        answer.tools.push(record)
        await emit('tool', { name: call.name, status: record.ok ? 'done' : 'error' })
        messages.push({ role: 'tool', content: JSON.stringify(record.result), tool_name: call.name })
      }
    }
  }
  catch (error) {
    if (isError(error) && error.statusCode === 503) throw error
    answer.status = signal.aborted ? 'stopped' : 'error'
    if (answer.status === 'error') answer.error = modelErrorMessage(abort.signal.aborted ? abort.signal.reason : error)
  }
  finally {
    clearTimeout(stall)
    signal.removeEventListener('abort', stop)
    abort.signal.removeEventListener('abort', abortIterator)
  }
  answer.text = tokens.join('')
  answer.durationMs = elapsed()
  return answer
}

const sleep = (ms: number) => new Promise<'slow'>(resolve => setTimeout(resolve, ms, 'slow').unref())
