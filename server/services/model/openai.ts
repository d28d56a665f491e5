import type { ContextMessage } from '../context'
import { parseSse, ToolCallAssembler, type ToolCallDelta } from './sse'
import { type ModelBackend, type ModelChatRequest, type ModelChunk, ModelHttpError, type ModelInfo, type ModelStream } from './types'

/**
 * An OpenAI-compatible server (vLLM, LiteLLM, llama.cpp's server): `GET {base}/models` and streamed
 * `POST {base}/chat/completions` (SSE `data:` lines, `[DONE]`, usage from `stream_options.include_usage`,
 * tool calls whose `arguments` arrive in fragments). `base` is the configured URL, usually ending in `/v1`.
 */
export function openaiBackend(base: string, apiKey?: string): ModelBackend {
  const headers = (json: boolean): Record<string, string> => ({
    accept: json ? 'application/json' : 'text/event-stream',
    ...(json ? {} : { 'content-type': 'application/json' }),
    ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
  })
  return {
    kind: 'openai',
    url: base,
    async list(signal): Promise<ModelInfo[]> {
      const res = await fetch(`${base}/models`, { headers: headers(true), signal })
      if (!res.ok) throw await httpError(res)
      const body = await res.json() as { data?: Array<{ id?: string }> }
      return (body.data ?? []).filter(m => typeof m.id === 'string').map(m => ({ name: m.id!, size: 0, family: null, parameterSize: null }))
    },
    async chat({ model, messages, tools, options = {}, signal }: ModelChatRequest): Promise<ModelStream> {
      const controller = new AbortController()
      const both = AbortSignal.any([signal, controller.signal])
      const res = await fetch(`${base}/chat/completions`, {
        method: 'POST',
        headers: headers(false),
        signal: both,
        body: JSON.stringify({
          model,
          messages: toOpenAiMessages(messages),
          ...(tools?.length ? { tools } : {}),
          stream: true,
          stream_options: { include_usage: true },
          ...(options.temperature !== undefined ? { temperature: options.temperature } : {}),
          ...(options.topP !== undefined ? { top_p: options.topP } : {}),
          ...(options.maxTokens !== undefined ? { max_tokens: options.maxTokens } : {}),
        }),
      })
      if (!res.ok) throw await httpError(res)
      if (!res.body) throw new Error('the model server sent no body')
      const iterator = openAiChunks(res.body as unknown as AsyncIterable<Uint8Array>, () => both.aborted)
      return { [Symbol.asyncIterator]: () => iterator, abort: () => controller.abort() }
    },
  }
}

interface CompletionChunk {
  choices?: Array<{ delta?: { content?: string | null, tool_calls?: ToolCallDelta[] }, finish_reason?: string | null }>
  usage?: { prompt_tokens?: number, completion_tokens?: number } | null
  error?: { message?: string } | string
}

/**
 * The SSE body as our chunks: text as it comes, the assembled tool calls once the choice finishes, and `done`
 * (finish reason + usage) at `[DONE]`. A body that ends without `[DONE]` is a failure, as with Ollama.
 */
export async function* openAiChunks(body: AsyncIterable<Uint8Array | string>, aborted: () => boolean = () => false): AsyncGenerator<ModelChunk> {
  const calls = new ToolCallAssembler()
  let reason: string | null = null
  let usage: { promptTokens: number | null, completionTokens: number | null } = { promptTokens: null, completionTokens: null }
  const flushCalls = (): ModelChunk | null => (calls.size ? { toolCalls: calls.finish() } : null)
  for await (const message of parseSse(body)) {
    if (message.data === '[DONE]') {
      const pending = flushCalls()
      if (pending) yield pending
      yield { done: { reason: reason === 'tool_calls' || !reason ? 'stop' : reason, ...usage } }
      return
    }
    let chunk: CompletionChunk
    try { chunk = JSON.parse(message.data) }
    catch { throw new Error('the model server sent a malformed stream chunk') }
    if (chunk.error) throw new Error(`the model server failed: ${typeof chunk.error === 'string' ? chunk.error : chunk.error.message ?? 'unknown error'}`.slice(0, 300))
    if (chunk.usage) usage = { promptTokens: chunk.usage.prompt_tokens ?? null, completionTokens: chunk.usage.completion_tokens ?? null }
    const choice = chunk.choices?.[0]
    if (!choice) continue
    if (choice.delta?.content) yield { text: choice.delta.content }
    calls.add(choice.delta?.tool_calls)
    if (choice.finish_reason) {
      reason = choice.finish_reason
      const pending = flushCalls()
      if (pending) yield pending
    }
  }
  if (!aborted()) throw new Error('the model server closed the stream before the end of the answer')
}

/**
 * Our messages (Ollama's shape: tool calls with object arguments, tool results named by `tool_name`) in OpenAI's:
 * each call gets an id, its arguments a JSON string, and each result the id of the call it answers, in order.
 */
export function toOpenAiMessages(messages: ContextMessage[]) {
  let next = 0
  const pending: Array<{ id: string, name: string }> = []
  return messages.map((m) => {
    if (m.role === 'assistant' && m.tool_calls?.length) {
      const tool_calls = m.tool_calls.map((call) => {
        const id = `call_${next++}`
        pending.push({ id, name: call.function.name })
        return { id, type: 'function' as const, function: { name: call.function.name, arguments: JSON.stringify(call.function.arguments ?? {}) } }
      })
      return { role: 'assistant' as const, content: m.content || null, tool_calls }
    }
    if (m.role === 'tool') {
      const at = pending.findIndex(p => p.name === m.tool_name)
      const call = at >= 0 ? pending.splice(at, 1)[0]! : pending.shift()
      return { role: 'tool' as const, tool_call_id: call?.id ?? `call_${next++}`, content: m.content }
    }
    return { role: m.role, content: m.content }
  })
}

async function httpError(res: Response) {
  let message = res.statusText || `HTTP ${res.status}`
  try {
    const text = await res.text()
    try {
      const body = JSON.parse(text) as { error?: { message?: string } | string, message?: string }
      message = (typeof body.error === 'string' ? body.error : body.error?.message) ?? body.message ?? message
    }
    catch { if (text) message = text }
  }
  catch {}
  return new ModelHttpError(res.status, message.slice(0, 300))
}
