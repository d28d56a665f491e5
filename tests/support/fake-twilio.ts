import { createHmac } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * A stand-in for Twilio's REST API: a real HTTP server that records every
 * `POST /2010-04-01/Accounts/{sid}/Messages.json` (form body, basic auth) and answers like Twilio (201 with a
 * message sid). It can fail the next N sends with a status (500, 429 …) or hold them unanswered.
 */

export interface SentMessage {
  accountSid: string
  /** `user:password` from the basic auth header. */
  auth: string | null
  to: string
  from: string
  body: string
  at: number
  /** The answer status (0 while held or when the connection was cut). */
  status: number
  /** Twilio's sid, set when the send was accepted (2xx). */
  sid: string | null
}

export class FakeTwilio {
  /** Every Messages.json post, oldest first. */
  posts: SentMessage[] = []
  url = ''
  private failures: Array<{ status: number, retryAfter?: number }> = []
  private holding = 0
  private passing = 0
  private held = new Set<ServerResponse>()
  private server: Server
  private sockets = new Set<import('node:net').Socket>()
  private counter = 0

  constructor() {
    this.server = createServer((req, res) => { this.handle(req, res).catch(() => res.destroy()) })
    this.server.on('connection', (socket) => {
      this.sockets.add(socket)
      socket.on('close', () => this.sockets.delete(socket))
    })
  }

  async start(port = 0) {
    await new Promise<void>(resolve => this.server.listen(port, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`
    return this
  }

  async close() {
    for (const res of this.held) res.destroy()
    for (const socket of this.sockets) socket.destroy()
    await new Promise(resolve => this.server.close(resolve))
  }

  /** The next `count` sends answer `status` (Twilio's error JSON), optionally with Retry-After seconds. */
  fail(count: number, status: number, retryAfter?: number) {
    for (let i = 0; i < count; i++) this.failures.push({ status, retryAfter })
    return this
  }

  /** The next `count` sends are never answered (the connection stays open until `close`). */
  hold(count: number) { this.holding += count; return this }

  /** The next `count` sends are accepted before any `fail` or `hold` applies (to fail the second part of a reply). */
  pass(count: number) { this.passing += count; return this }

  reset() { this.posts = []; this.failures = []; this.holding = 0; this.passing = 0; return this }

  /** Sends Twilio accepted. */
  get accepted() { return this.posts.filter(p => p.sid !== null) }
  /** Accepted sends to one address. */
  acceptedTo(to: string) { return this.accepted.filter(p => p.to === to) }

  /** Resolves once `predicate` holds for the recorded posts (polls; rejects after `timeoutMs`). */
  async waitFor(predicate: (posts: SentMessage[]) => boolean, timeoutMs = 10_000) {
    const deadline = Date.now() + timeoutMs
    while (!predicate(this.posts)) {
      if (Date.now() > deadline) throw new Error(`fake-twilio: condition not met within ${timeoutMs} ms (${this.posts.length} posts)`)
      await new Promise(resolve => setTimeout(resolve, 20))
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse) {
    let raw = ''
    for await (const chunk of req) raw += chunk
    const match = /^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/.exec((req.url ?? '').split('?')[0]!)
    if (req.method !== 'POST' || !match) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ code: 20404, message: 'not found', status: 404 }))
      return
    }
    const form = new URLSearchParams(raw)
    const header = req.headers.authorization ?? ''
    const auth = header.startsWith('Basic ') ? Buffer.from(header.slice(6), 'base64').toString('utf8') : null
    const post: SentMessage = { accountSid: decodeURIComponent(match[1]!), auth, to: form.get('To') ?? '', from: form.get('From') ?? '', body: form.get('Body') ?? '', at: Date.now(), status: 0, sid: null }
    this.posts.push(post)
    const passed = this.passing > 0
    if (passed) this.passing--
    else if (this.holding > 0) {
      this.holding--
      this.held.add(res)
      res.on('close', () => this.held.delete(res))
      return
    }
    const failure = passed ? undefined : this.failures.shift()
    if (failure) {
      post.status = failure.status
      const headers: Record<string, string> = { 'content-type': 'application/json' }
      if (failure.retryAfter !== undefined) headers['retry-after'] = String(failure.retryAfter)
      res.writeHead(failure.status, headers).end(JSON.stringify({ code: failure.status === 429 ? 20429 : 20500, message: 'fake failure', status: failure.status }))
      return
    }
    post.status = 201
    post.sid = `SM${(++this.counter).toString(16).padStart(32, '0')}`
    res.writeHead(201, { 'content-type': 'application/json' }).end(JSON.stringify({ sid: post.sid, status: 'queued', to: post.to, from: post.from, body: post.body }))
  }
}

/** `X-Twilio-Signature` exactly as Twilio computes it: base64 HMAC-SHA1 of the URL + sorted name/value pairs. */
export function signTwilio(authToken: string, url: string, params: Record<string, string>) {
  const data = Object.keys(params).sort().reduce((acc, key) => acc + key + params[key], url)
  return createHmac('sha1', authToken).update(Buffer.from(data, 'utf-8')).digest('base64')
}

let messageCounter = 0
/** A MessageSid like Twilio's (SM + 32 hex). */
export const messageSid = () => `SM${Date.now().toString(16)}${(++messageCounter).toString(16).padStart(6, '0')}${Math.random().toString(16).slice(2, 12)}`.padEnd(34, '0').slice(0, 34)
