import { ref } from 'vue'
import type { ChatRequest } from '#shared/schemas'
import type { StreamErrorReason } from '#shared/errors'
import type { ApiToolCall, ChatEventName, ChatEvents } from '#shared/types'
import { ApiRequestError, useApi } from './useApi'

export type { ChatRequest }
export type ChatMeta = ChatEvents['meta']
export type ChatDone = ChatEvents['done']

export interface ChatStreamHandlers {
  onMeta?: (meta: ChatMeta) => void
  onQueue?: (position: number) => void
  onToken?: (text: string) => void
  onTitle?: (title: string) => void
  /** An assistant tool call starting (`running`) or ending (`done` / `error`, with the report it was about). */
  onTool?: (call: ApiToolCall) => void
}

/** How a stream ended: `done`, an `error` event, the user's Stop, or the connection closing without either. */
export type ChatStreamResult =
  | { outcome: 'done', done: ChatDone }
  | { outcome: 'error', message: string, reason?: StreamErrorReason, assistantMessageId?: string }
  | { outcome: 'stopped' }
  | { outcome: 'interrupted' }

/** A JSON error answered before the stream started (400/403/404/429/503), or no answer at all (status 0): the API client's one error type. */
export const ChatRequestError = ApiRequestError
export type ChatRequestError = ApiRequestError

export interface SseEvent { event: string, data: string }

/**
 * An incremental text/event-stream parser: feed it decoded text in any chunking, it calls `onEvent` once per
 * complete event. Comment lines (`: ping`) are ignored; multi-line `data:` fields are joined with "\n".
 */
export function createSseParser(onEvent: (event: SseEvent) => void) {
  let buffer = ''
  let event = ''
  let data: string[] = []

  function line(text: string) {
    if (text === '') {
      if (data.length) onEvent({ event: event || 'message', data: data.join('\n') })
      event = ''
      data = []
      return
    }
    if (text.startsWith(':')) return
    const colon = text.indexOf(':')
    const field = colon === -1 ? text : text.slice(0, colon)
    let value = colon === -1 ? '' : text.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') event = value
    else if (field === 'data') data.push(value)
  }

  return {
    push(chunk: string) {
      buffer += chunk
      let start = 0
      for (let i = 0; i < buffer.length; i++) {
        const c = buffer[i]
        if (c !== '\n' && c !== '\r') continue
        // a lone \r at the very end may be the first half of \r\n: wait for the next chunk
        if (c === '\r' && i === buffer.length - 1) break
        line(buffer.slice(start, i))
        if (c === '\r' && buffer[i + 1] === '\n') i++
        start = i + 1
      }
      buffer = buffer.slice(start)
    },
    /** The stream ended: a final event without its blank line still counts. */
    end() {
      if (buffer) line(buffer.replace(/\r$/, ''))
      buffer = ''
      line('')
    },
  }
}

/** One stream event's payload, checked against its type in shared/types.ts (null: not that shape). */
function parseEvent<K extends ChatEventName>(event: K, data: string): ChatEvents[K] | null {
  let payload: unknown
  try { payload = JSON.parse(data) }
  catch { return null }
  if (!payload || typeof payload !== 'object') return null
  const p = payload as Record<string, unknown>
  const ok: Record<ChatEventName, () => boolean> = {
    meta: () => typeof p.conversationId === 'string' && typeof p.userMessageId === 'string',
    queue: () => Number.isFinite(Number(p.position)),
    token: () => typeof p.t === 'string',
    title: () => typeof p.title === 'string',
    tool: () => typeof p.name === 'string' && ['running', 'done', 'error'].includes(p.status as string),
    done: () => typeof p.assistantMessageId === 'string',
    error: () => true,
  }
  return ok[event]() ? payload as ChatEvents[K] : null
}

const isEventName = (name: string): name is ChatEventName => ['meta', 'queue', 'token', 'title', 'tool', 'done', 'error'].includes(name)

/**
 * Reads `POST /api/chat` as a stream (EventSource cannot POST) through the API client. `send` resolves with how
 * the stream ended and throws ApiRequestError when the server answered JSON before streaming (a lost session is
 * handled by the client, as for every request). `stop` asks the server to stop the answer
 * (`POST /api/chat/:conversationId/stop`, which reaches whichever app process runs it) and reads on: the server
 * saves the text so far and ends the stream with `done` (`finishReason: "stopped"`), having freed the user first, so
 * a message sent right after is not refused. Should `done` not come within `STOP_GRACE_MS` (or before `meta` named
 * the conversation, or with `wait: false`), the request is closed instead: the server then saves it as `stopped`
 * when it notices the client left.
 */
const STOP_GRACE_MS = 3000

export function useChatStream() {
  const api = useApi()
  const active = ref(false)
  let controller: AbortController | null = null
  let stopGrace: ReturnType<typeof setTimeout> | undefined
  // the conversation of the answer being streamed, once `meta` named it
  let streaming: string | null = null

  /** Reads what follows `done` (a late `title`) until the server closes the stream. */
  async function readRest(reader: ReadableStreamDefaultReader<string>, parser: { push: (chunk: string) => void, end: () => void }) {
    try {
      for (;;) {
        const { value, done } = await reader.read()
        if (done) break
        parser.push(value)
      }
      parser.end()
    }
    catch {}
    finally {
      reader.cancel().catch(() => {})
    }
  }

  async function send(request: ChatRequest, handlers: ChatStreamHandlers = {}): Promise<ChatStreamResult> {
    controller?.abort()
    const abort = controller = new AbortController()
    active.value = true
    streaming = null
    let result: ChatStreamResult | null = null
    try {
      let response: Response
      try {
        response = await api.stream('/api/chat', { method: 'POST', body: { ...request }, signal: abort.signal })
      }
      catch (error) {
        if (abort.signal.aborted) return { outcome: 'stopped' }
        throw error
      }

      const parser = createSseParser(({ event, data }) => {
        // after `done` (or `error`) only a late `title` is still taken (API.md: it may follow `done`)
        if ((result && event !== 'title') || !isEventName(event)) return
        switch (event) {
          case 'meta': { const e = parseEvent('meta', data); if (e) { streaming = String(e.conversationId); handlers.onMeta?.(e) } break }
          case 'queue': { const e = parseEvent('queue', data); if (e) handlers.onQueue?.(Number(e.position)); break }
          case 'token': { const e = parseEvent('token', data); if (e) handlers.onToken?.(e.t); break }
          case 'title': { const e = parseEvent('title', data); if (e) handlers.onTitle?.(e.title); break }
          case 'tool': { const e = parseEvent('tool', data); if (e) handlers.onTool?.({ name: e.name, status: e.status, ...(typeof e.reportId === 'string' ? { reportId: e.reportId } : {}) }); break }
          case 'done': { const e = parseEvent('done', data); if (e) result = { outcome: 'done', done: e }; break }
          case 'error': {
            const e = parseEvent('error', data)
            if (e) result = { outcome: 'error', message: String(e.message ?? ''), reason: e.reason, assistantMessageId: e.assistantMessageId }
            break
          }
        }
      })
      const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
      let handedOff = false
      try {
        for (;;) {
          const { value, done } = await reader.read()
          if (done) break
          parser.push(value)
          if (result) break
        }
        if (!result) parser.end()
        else {
          // the answer is settled now; the stream stays open for the title, read until the server closes it
          handedOff = true
          void readRest(reader, parser)
        }
      }
      catch {
        if (abort.signal.aborted) return { outcome: 'stopped' }
        return result ?? { outcome: 'interrupted' }
      }
      finally {
        if (!handedOff) reader.cancel().catch(() => {})
      }
      if (result) return result
      return abort.signal.aborted ? { outcome: 'stopped' } : { outcome: 'interrupted' }
    }
    finally {
      if (controller === abort) {
        clearTimeout(stopGrace)
        controller = null
        streaming = null
        active.value = false
      }
    }
  }

  function stop({ wait = true } = {}) {
    const abort = controller
    if (!abort) return
    if (streaming) {
      // keepalive: the request is sent even while the page goes away
      void fetch(`/api/chat/${encodeURIComponent(streaming)}/stop`, { method: 'POST', credentials: 'same-origin', keepalive: true }).catch(() => {})
    }
    if (!streaming || !wait) return abort.abort()
    clearTimeout(stopGrace)
    stopGrace = setTimeout(() => abort.abort(), STOP_GRACE_MS)
  }

  return { send, stop, active }
}
