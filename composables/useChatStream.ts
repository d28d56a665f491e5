import { ref } from 'vue'
import type { ChatRequest } from '#shared/schemas'
import type { ChatEvents, ToolStatus } from '#shared/types'

export type { ChatRequest }
export type ChatMeta = ChatEvents['meta']
export type ChatDone = ChatEvents['done']

export interface ChatStreamHandlers {
  onMeta?: (meta: ChatMeta) => void
  onQueue?: (position: number) => void
  onToken?: (text: string) => void
  onTitle?: (title: string) => void
  /** An assistant tool call starting (`running`) or ending (`done` / `error`). */
  onTool?: (name: string, status: ToolStatus) => void
}

/** How a stream ended: `done`, an `error` event, the user's Stop, or the connection closing without either. */
export type ChatStreamResult =
  | { outcome: 'done', done: ChatDone }
  | { outcome: 'error', message: string, assistantMessageId?: string }
  | { outcome: 'stopped' }
  | { outcome: 'interrupted' }

/** A JSON error answered before the stream started (400/403/404/429/503), or no answer at all (status 0). */
export class ChatRequestError extends Error {
  constructor(readonly statusCode: number, message: string, readonly data?: Record<string, unknown>, readonly retryAfter: number | null = null) {
    super(message)
    this.name = 'ChatRequestError'
  }
}

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

async function errorFromResponse(response: Response): Promise<ChatRequestError> {
  let body: { message?: string, data?: Record<string, unknown> } = {}
  try { body = await response.json() }
  catch {}
  const retryAfter = Number(response.headers.get('retry-after'))
  return new ChatRequestError(response.status, body.message || response.statusText || `HTTP ${response.status}`, body.data, retryAfter > 0 ? retryAfter : null)
}

/**
 * Reads `POST /api/chat` as a stream (EventSource cannot POST). `send` resolves with how the stream ended and
 * throws ChatRequestError when the server answered JSON before streaming. `stop` asks the server to stop the
 * answer (`POST /api/chat/:conversationId/stop`, which reaches whichever app process runs it) and aborts the
 * request: either way the server stops the model and saves the partial answer as `stopped`.
 */
export function useChatStream() {
  const active = ref(false)
  let controller: AbortController | null = null
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
        response = await fetch('/api/chat', {
          method: 'POST',
          credentials: 'same-origin',
          headers: { 'content-type': 'application/json', 'accept': 'text/event-stream' },
          body: JSON.stringify(request),
          signal: abort.signal,
        })
      }
      catch (error) {
        if (abort.signal.aborted) return { outcome: 'stopped' }
        throw new ChatRequestError(0, (error as Error).message || 'Network error')
      }
      if (!response.ok || !response.headers.get('content-type')?.includes('text/event-stream') || !response.body) {
        throw await errorFromResponse(response)
      }

      const parser = createSseParser(({ event, data }) => {
        // after `done` (or `error`) only a late `title` is still taken (API.md: it may follow `done`)
        if (result && event !== 'title') return
        let payload: Record<string, any>
        try { payload = JSON.parse(data) }
        catch { return }
        switch (event) {
          case 'meta': streaming = String(payload.conversationId); handlers.onMeta?.(payload as ChatMeta); break
          case 'queue': handlers.onQueue?.(Number(payload.position)); break
          case 'token': if (typeof payload.t === 'string') handlers.onToken?.(payload.t); break
          case 'title': if (typeof payload.title === 'string') handlers.onTitle?.(payload.title); break
          case 'tool': if (typeof payload.name === 'string' && ['running', 'done', 'error'].includes(payload.status)) handlers.onTool?.(payload.name, payload.status); break
          case 'done': result = { outcome: 'done', done: payload as ChatDone }; break
          case 'error': result = { outcome: 'error', message: String(payload.message ?? ''), assistantMessageId: payload.assistantMessageId }; break
        }
      })
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader()
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
        controller = null
        streaming = null
        active.value = false
      }
    }
  }

  function stop() {
    if (streaming) {
      // keepalive: the request is sent even while the page goes away
      void fetch(`/api/chat/${encodeURIComponent(streaming)}/stop`, { method: 'POST', credentials: 'same-origin', keepalive: true }).catch(() => {})
    }
    controller?.abort()
  }

  return { send, stop, active }
}
