import { Ollama } from 'ollama'
import type { AppSettings } from './settings'
import { cleanTitle, type ContextMessage, titlePrompt } from './context'
import { type AgentTool, toOllamaTool } from './orchestrator/tools'

/**
 * Model calls of the chat. ollama-js creates its AbortController only once the response has started, so a
 * model that is still loading could not be aborted through it; these calls use a client whose fetch also
 * honours our signal (client gone, timeouts). The host is the server's configuration, never the request's.
 */
function clientFor(signal: AbortSignal) {
  return new Ollama({
    host: useConfig().ollamaHost,
    fetch: (input, init) => fetch(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal }),
  })
}

export interface ModelStreamInput { model: string, messages: ContextMessage[], tools?: AgentTool[], settings: AppSettings, signal: AbortSignal }

/** Starts a streamed chat; resolves once the model server answers (with the first token, for Ollama). */
export function openModelStream({ model, messages, tools, settings, signal }: ModelStreamInput) {
  return clientFor(signal).chat({
    model,
    messages,
    // no `tools` key at all when none are offered: the request stays what it was before agents existed
    ...(tools?.length ? { tools: tools.map(toOllamaTool) } : {}),
    stream: true,
    options: { temperature: settings.temperature, top_p: settings.topP, num_ctx: settings.numCtx },
  })
}

export type ModelStream = Awaited<ReturnType<typeof openModelStream>>

const TITLE_TOKENS = 24
const TITLE_TIMEOUT_MS = 15_000

/** Asks the model for a short title (bounded tokens and time); null when it fails or proposes nothing usable. */
export async function proposeTitle(model: string, question: string, answer: string, signal: AbortSignal): Promise<string | null> {
  const timeout = AbortSignal.timeout(TITLE_TIMEOUT_MS)
  const both = AbortSignal.any([signal, timeout])
  try {
    const stream = await clientFor(both).chat({
      model,
      messages: titlePrompt(question, answer),
      stream: true,
      options: { temperature: 0.2, num_predict: TITLE_TOKENS },
    })
    let text = ''
    for await (const part of stream) {
      text += part.message?.content ?? ''
      if (text.length > 200) { stream.abort(); break }
    }
    return cleanTitle(text)
  }
  catch {
    return null
  }
}

/** A short reason for logs and the client; never includes prompts or answers. */
export function modelErrorMessage(error: unknown) {
  const e = error as { name?: string, status_code?: number, message?: string, cause?: { code?: string } }
  if (e?.status_code) return `the model server answered ${e.status_code}: ${String(e.message ?? '').slice(0, 200)}`
  if (e?.cause?.code) return `the model server cannot be reached (${e.cause.code})`
  return String(e?.message ?? error).slice(0, 200)
}
