import type { ModelToolCall } from './types'

/** One server-sent event: its `event:` name (default `message`) and its `data:` lines joined by newlines. */
export interface SseMessage { event: string, data: string }

/**
 * Parses a `text/event-stream` body (WHATWG rules that matter for model servers): lines end in LF, CRLF or CR;
 * `data:` lines accumulate; a blank line dispatches; `:` lines are comments; one space after the colon is dropped.
 * An event still pending when the body ends is dispatched too (some servers omit the last blank line).
 */
export async function* parseSse(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<SseMessage> {
  const decoder = new TextDecoder()
  let buffer = ''
  let event = ''
  let data: string[] = []
  let sawCr = false
  const line = (text: string): SseMessage | undefined => {
    if (text === '') {
      const message = data.length ? { event: event || 'message', data: data.join('\n') } : undefined
      event = ''
      data = []
      return message
    }
    if (text.startsWith(':')) return undefined
    const colon = text.indexOf(':')
    const field = colon < 0 ? text : text.slice(0, colon)
    let value = colon < 0 ? '' : text.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'data') data.push(value)
    else if (field === 'event') event = value
    return undefined
  }
  for await (const chunk of body) {
    let text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true })
    // a CRLF split across two chunks: the LF belongs to the CR already handled
    if (sawCr && text.startsWith('\n')) text = text.slice(1)
    sawCr = false
    buffer += text
    let start = 0
    for (let i = 0; i < buffer.length; i++) {
      const c = buffer[i]
      if (c !== '\n' && c !== '\r') continue
      const message = line(buffer.slice(start, i))
      if (c === '\r') {
        if (i + 1 < buffer.length) { if (buffer[i + 1] === '\n') i++ }
        else sawCr = true
      }
      start = i + 1
      if (message) yield message
    }
    buffer = buffer.slice(start)
  }
  buffer += decoder.decode()
  if (buffer) { const message = line(buffer); if (message) yield message }
  const last = line('')
  if (last) yield last
}

/** One `delta.tool_calls[]` entry of an OpenAI stream chunk. */
export interface ToolCallDelta { index?: number, id?: string, type?: string, function?: { name?: string, arguments?: string } }

/**
 * Assembles OpenAI's streamed tool calls: each call arrives in fragments keyed by `index` (the id and name first,
 * then `arguments` as pieces of one JSON string). `finish()` returns the calls in index order with parsed
 * arguments; arguments that are empty become `{}`, and ones that are not a JSON object become `{}` too (the tool's
 * own validation then tells the model what is missing).
 */
export class ToolCallAssembler {
  private calls = new Map<number, { id: string, name: string, arguments: string }>()

  add(deltas: ToolCallDelta[] | undefined) {
    for (const [position, delta] of (deltas ?? []).entries()) {
      const index = delta.index ?? position
      let call = this.calls.get(index)
      if (!call) this.calls.set(index, call = { id: '', name: '', arguments: '' })
      if (delta.id) call.id = delta.id
      if (delta.function?.name) call.name += delta.function.name
      if (delta.function?.arguments) call.arguments += delta.function.arguments
    }
  }

  get size() { return this.calls.size }

  finish(): ModelToolCall[] {
    const calls = [...this.calls.entries()].sort(([a], [b]) => a - b).map(([, call]) => ({ name: call.name, arguments: parseArguments(call.arguments) }))
    this.calls.clear()
    return calls.filter(call => call.name)
  }
}

function parseArguments(text: string): Record<string, unknown> {
  if (!text.trim()) return {}
  try {
    const value = JSON.parse(text)
    return value && typeof value === 'object' && !Array.isArray(value) ? value : {}
  }
  catch { return {} }
}
