import { inject } from 'vitest'
import { FakeOllama, type FakeOllamaOptions } from './fake-ollama'
import type { Client } from './http'
import { createTestDatabase, type RunningServer, startServer, type TestDatabase } from './server'

export interface SseEvent { event: string, data: any }

/** Splits an SSE body into events (JSON data) and comment lines. */
export function parseSse(text: string) {
  const events: SseEvent[] = []
  const comments: string[] = []
  for (const block of text.split('\n\n')) {
    let event = 'message'
    const data: string[] = []
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) comments.push(line.slice(1).trim())
      else if (line.startsWith('event: ')) event = line.slice(7)
      else if (line.startsWith('data: ')) data.push(line.slice(6))
    }
    if (data.length) events.push({ event, data: JSON.parse(data.join('\n')) })
  }
  return { events, comments }
}

export interface ChatReply {
  status: number
  headers: Headers
  /** The SSE events, or [] for a JSON answer. */
  events: SseEvent[]
  comments: string[]
  /** The JSON body of a non-stream answer. */
  json: any
  text: string
  tokens: string
}

export interface ChatOptions {
  /** Disconnect after this many `token` events (a browser closing the tab, or Stop). */
  disconnectAfterTokens?: number
  /** Disconnect as soon as an event of this name arrives (e.g. `queue`: a client that leaves while waiting). */
  disconnectOnEvent?: string
  /** Disconnect as soon as this holds for what arrived so far (e.g. a `ping` comment). */
  disconnectWhen?: (reply: ChatReply) => boolean
  /** Called for each event as it arrives. */
  onEvent?: (event: SseEvent) => void
}

/**
 * The event that ended the answer (`done` or `error`): the last one but a `title`, which may follow `done` on a
 * conversation's first exchange (API.md).
 */
/** A model request that asks for a conversation's title (it runs after the answer freed its slot). */
export const isTitleCall = (body: any) => String(body?.messages?.[0]?.content ?? '').includes('título breve')

export const ending = (reply: Pick<ChatReply, 'events'>) => reply.events.filter(e => e.event !== 'title').at(-1)

/** POST /api/chat as `client`, reading the event stream as it arrives. */
export async function postChat(client: Client, body: unknown, options: ChatOptions = {}): Promise<ChatReply> {
  const controller = new AbortController()
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (client.cookies.size) headers.cookie = [...client.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  if (client.bearer) headers.authorization = `Bearer ${client.bearer}`
  const res = await fetch(`${client.baseUrl}/api/chat`, { method: 'POST', headers, body: typeof body === 'string' ? body : JSON.stringify(body), signal: controller.signal })
    .catch((error) => { if (controller.signal.aborted) return null; throw error })
  const reply: ChatReply = { status: res?.status ?? 0, headers: res?.headers ?? new Headers(), events: [], comments: [], json: null, text: '', tokens: '' }
  if (!res) return reply
  if (!res.headers.get('content-type')?.startsWith('text/event-stream')) {
    reply.text = await res.text()
    try { reply.json = JSON.parse(reply.text) }
    catch {}
    return reply
  }
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader()
  let buffer = ''
  let tokenEvents = 0
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done) break
      reply.text += value
      buffer += value
      const cut = buffer.lastIndexOf('\n\n')
      if (cut < 0) continue
      const parsed = parseSse(buffer.slice(0, cut + 2))
      buffer = buffer.slice(cut + 2)
      reply.comments.push(...parsed.comments)
      for (const event of parsed.events) {
        reply.events.push(event)
        options.onEvent?.(event)
        if (event.event === 'token') { reply.tokens += event.data.t; tokenEvents++ }
      }
      const leave = options.disconnectOnEvent !== undefined && parsed.events.some(e => e.event === options.disconnectOnEvent)
      if (leave || options.disconnectWhen?.(reply) || (options.disconnectAfterTokens !== undefined && tokenEvents >= options.disconnectAfterTokens)) {
        controller.abort()
        break
      }
    }
  }
  catch (error) {
    if (!controller.signal.aborted) throw error
  }
  return reply
}

export interface ChatServer { fake: FakeOllama, server: RunningServer, db: TestDatabase, url: string, stop: () => Promise<void> }

/** A fake Ollama and a built server talking to it, on a fresh database of the project's kind. */
export async function startChatServer(env: Record<string, string> = {}, fakeOptions?: FakeOllamaOptions): Promise<ChatServer> {
  const fake = await new FakeOllama(fakeOptions).start()
  const db = await createTestDatabase(inject('dbKind'))
  const server = await startServer({ DATABASE_URL: db.url, OLLAMA_HOST: fake.url, CHAT_RATE_LIMIT: '10000/1m', ...env })
  return {
    fake,
    server,
    db,
    url: server.url,
    stop: async () => {
      await server.stop()
      await fake.close()
      await db.drop()
    },
  }
}

/** Polls `check` until it returns a truthy value (the server saves the answer just after the stream ends). */
export async function eventually<T>(check: () => Promise<T | undefined | null | false>, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline) throw new Error('condition not met in time')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}
