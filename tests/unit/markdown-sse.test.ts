import { describe, expect, it } from 'vitest'
import { createSseParser, type SseEvent } from '../../composables/useChatStream'

// the chat screen's stream reader (composables/useChatStream.ts); lives beside the markdown tests because
// both turn what the model sends into what the user sees
function parse(chunks: string[]) {
  const events: SseEvent[] = []
  const parser = createSseParser(e => events.push(e))
  for (const chunk of chunks) parser.push(chunk)
  parser.end()
  return events
}

const STREAM = [
  'event: meta\ndata: {"conversationId":"c1","userMessageId":"u1","model":"m"}\n\n',
  ': ping\n\n',
  'event: queue\ndata: {"position":2}\n\n',
  'event: token\ndata: {"t":"Hola"}\n\n',
  'event: token\ndata: {"t":" mundo\\n"}\n\n',
  'event: done\ndata: {"assistantMessageId":"a1","finishReason":"stop"}\n\n',
].join('')

describe('SSE parser for POST /api/chat', () => {
  it('reads every event in order and ignores ping comments', () => {
    const events = parse([STREAM])
    expect(events.map(e => e.event)).toEqual(['meta', 'queue', 'token', 'token', 'done'])
    expect(JSON.parse(events[3]!.data)).toEqual({ t: ' mundo\n' })
  })

  it('gives the same events however the bytes are chunked', () => {
    const whole = parse([STREAM])
    const oneByOne = parse([...STREAM])
    const uneven = parse(STREAM.match(/[\s\S]{1,7}/g)!)
    expect(oneByOne).toEqual(whole)
    expect(uneven).toEqual(whole)
  })

  it('accepts CRLF and CR line endings, even split between chunks', () => {
    const crlf = STREAM.replace(/\n/g, '\r\n')
    expect(parse(crlf.match(/[\s\S]{1,5}/g)!)).toEqual(parse([STREAM]))
    expect(parse([STREAM.replace(/\n/g, '\r')])).toEqual(parse([STREAM]))
  })

  it('joins multi-line data and defaults the event name to message', () => {
    expect(parse(['data: a\ndata: b\n\n'])).toEqual([{ event: 'message', data: 'a\nb' }])
  })

  it('a final event without its blank line still arrives when the stream ends', () => {
    expect(parse(['event: done\ndata: {}'])).toEqual([{ event: 'done', data: '{}' }])
  })

  it('an event with no data is dropped', () => {
    expect(parse(['event: token\n\n'])).toEqual([])
  })
})
