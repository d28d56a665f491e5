import type { AppSettings } from './settings'
import { cleanTitle, type ContextMessage, titlePrompt } from './context'
import type { ModelStream } from './model/types'
import { type AgentTool, toOllamaTool } from './orchestrator/tools'

export type { ModelChunk, ModelStream } from './model/types'

/**
 * Model calls of the chat, through the pool of model servers (server/services/model/): Ollama or
 * OpenAI-compatible, the caller cannot tell. Every call honours its signal (client gone, timeouts), including
 * while a model is still loading.
 */
export interface ModelStreamInput { model: string, messages: ContextMessage[], tools?: AgentTool[], settings: AppSettings, signal: AbortSignal }

/**
 * Starts a streamed chat on the least-busy healthy server that has the model; resolves with the first chunk in
 * hand (a server that fails before it is replaced once by another).
 */
export function openModelStream({ model, messages, tools, settings, signal }: ModelStreamInput): Promise<ModelStream> {
  return useModelPool().open({
    model,
    messages,
    tools: tools?.length ? tools.map(toOllamaTool) : undefined,
    options: { temperature: settings.temperature, topP: settings.topP, numCtx: settings.numCtx, maxTokens: settings.maxAnswerTokens },
    signal,
  })
}

const TITLE_TOKENS = 24
const TITLE_TIMEOUT_MS = 15_000

/** Asks the model for a short title (bounded tokens and time); null when it fails or proposes nothing usable. */
export async function proposeTitle(model: string, question: string, answer: string, signal: AbortSignal): Promise<string | null> {
  // one controller and a plain timer: AbortSignal.timeout + AbortSignal.any cost ~26 µs and weak references per title
  const bounded = new AbortController()
  const stop = () => bounded.abort(signal.reason)
  const timer = setTimeout(() => bounded.abort(new DOMException('the title took too long', 'TimeoutError')), TITLE_TIMEOUT_MS)
  if (signal.aborted) stop()
  else signal.addEventListener('abort', stop, { once: true })
  try {
    const stream = await useModelPool().open({ model, messages: titlePrompt(question, answer), options: { temperature: 0.2, maxTokens: TITLE_TOKENS }, signal: bounded.signal })
    let text = ''
    for await (const part of stream) {
      text += part.text ?? ''
      if (text.length > 200) { stream.abort(); break }
    }
    return cleanTitle(text)
  }
  catch {
    return null
  }
  finally {
    clearTimeout(timer)
    signal.removeEventListener('abort', stop)
  }
}

/** A short reason for logs and the client; never includes prompts or answers. */
export const modelErrorMessage = (error: unknown) => modelErrorText(error)
