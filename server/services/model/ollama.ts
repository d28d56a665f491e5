import { Ollama } from 'ollama'
import { nodeFetch } from './node-fetch'
import type { ModelBackend, ModelChatRequest, ModelChunk, ModelInfo, ModelStream } from './types'

/**
 * An Ollama server through ollama-js, over node:http (node-fetch.ts: the global fetch's web streams cost more per
 * token). ollama-js creates its AbortController only once the response has started, so a model that is still
 * loading could not be aborted through it: the client's fetch also honours our signal.
 */
export function ollamaBackend(url: string): ModelBackend {
  const clientFor = (signal: AbortSignal) => new Ollama({ host: url, fetch: (input, init) => nodeFetch(input, init, signal) })
  return {
    kind: 'ollama',
    url,
    async list(signal): Promise<ModelInfo[]> {
      const { models } = await clientFor(signal).list()
      return models.map(m => ({ name: m.name, size: m.size, family: m.details?.family ?? null, parameterSize: m.details?.parameter_size ?? null }))
    },
    async chat({ model, messages, tools, options = {}, signal }: ModelChatRequest): Promise<ModelStream> {
      const stream = await clientFor(signal).chat({
        model,
        messages,
        // no `tools` key at all when none are offered: the request stays what it was before agents existed
        ...(tools?.length ? { tools: tools as never } : {}),
        stream: true,
        options: { temperature: options.temperature, top_p: options.topP, num_ctx: options.numCtx, num_predict: options.maxTokens },
      })
      // a plain iterator (no generator layer: every token passes here): ollama-js's parts as ModelChunks
      const parts = stream[Symbol.asyncIterator]()
      let finished = false
      let aborted = false
      const iterator: AsyncIterableIterator<ModelChunk> = {
        async next() {
          for (;;) {
            const next = await parts.next()
            if (next.done) {
              if (!finished && !aborted && !signal.aborted) throw new Error('the model server closed the stream before the end of the answer')
              return { done: true, value: undefined }
            }
            const part = next.value
            const chunk: ModelChunk = {}
            if (part.message?.content) chunk.text = part.message.content
            const calls = part.message?.tool_calls ?? []
            if (calls.length) chunk.toolCalls = calls.map(c => ({ name: c.function.name, arguments: c.function.arguments ?? {} }))
            if (part.done) {
              finished = true
              chunk.done = { reason: part.done_reason || 'stop', promptTokens: part.prompt_eval_count ?? null, completionTokens: part.eval_count ?? null }
            }
            if (chunk.text || chunk.toolCalls || chunk.done) return { done: false, value: chunk }
          }
        },
        [Symbol.asyncIterator]: () => iterator,
      }
      return { [Symbol.asyncIterator]: () => iterator, abort: () => { aborted = true; stream.abort() } }
    },
  }
}
