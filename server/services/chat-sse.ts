import type { ServerResponse } from 'node:http'
import type { H3Event } from 'h3'
import type { ChatEventName, ChatEvents } from '#shared/types'

/** Thrown into the model call when the browser goes away; the answer is then saved as `stopped`. */
export class ClientGone extends Error {
  constructor() { super('client disconnected'); this.name = 'ClientGone' }
}

/**
 * Why the server stopped an answer whose client is still there: shutdown, the admin's time cap, the session
 * revoked or the user deactivated, the conversation reassigned to someone else or deleted, or the user's own
 * stop (`POST /api/chat/:conversationId/stop`, from any device).
 */
export type HaltReason = 'shutdown' | 'time-limit' | 'revoked' | 'reassigned' | 'deleted' | 'stopped'

export class Halted extends Error {
  constructor(public reason: HaltReason) { super(`answer stopped (${reason})`); this.name = 'Halted' }
}

/** One screen frame: tokens that come faster than this share a socket write. */
const TOKEN_FLUSH_MS = 16

/**
 * The SSE side of `POST /api/chat`, written straight to the Node response (h3's EventStream cannot send
 * comment lines): nothing is sent until `open()`, so errors found before it still answer plain JSON.
 * `signal` aborts when the client disconnects before `end()` or when the server halts the answer.
 * A client that stops reading holds a socket buffer, not the model: a write that has not drained within
 * `drainTimeoutMs` closes the connection, which counts as the client leaving.
 * Events written in the same turn of the event loop (tokens that arrived in one read from the model) leave in one
 * socket write: the socket is corked at the first and uncorked once the turn's microtasks are done.
 * Tokens after the first are paced: they leave at most every `tokenFlushMs` (one screen frame), so a fast model's
 * tokens share a write instead of costing a system call each (two thirds of the writes at 5 ms a token). Every
 * other event, and the first token, leaves at once and takes the held tokens with it, in order.
 */
export class ChatStream {
  private res: ServerResponse
  private controller = new AbortController()
  private ping?: NodeJS.Timeout
  private opened = false
  private ended = false
  private gone = false
  /** Events are held in the corked socket until the end of this turn, or until the pacing timer; null: not corked. */
  private held: { until: 'turn' } | { until: 'timer', timer: NodeJS.Timeout } | null = null
  private lastFlush = Number.NEGATIVE_INFINITY
  private tokenSent = false
  haltReason?: HaltReason

  constructor(event: H3Event, private pingMs: number, private drainTimeoutMs: number, private tokenFlushMs = TOKEN_FLUSH_MS) {
    this.res = event.node.res
    this.res.on('close', () => {
      if (!this.res.writableFinished) {
        this.gone = true
        this.controller.abort(new ClientGone())
      }
      clearInterval(this.ping)
      this.stopTimer()
    })
  }

  get signal() { return this.controller.signal }

  /** Stops the answer while the client stays connected: the model call stops, the text is saved as `stopped`. */
  halt(reason: HaltReason) {
    if (this.controller.signal.aborted) return
    this.haltReason = reason
    this.controller.abort(new Halted(reason))
  }

  /** Server shutdown. */
  stop() { this.halt('shutdown') }
  get isOpen() { return this.opened }
  /** The answer was stopped: the client left or the server halted it. */
  get stopped() { return this.controller.signal.aborted }
  /** The client's connection is gone: nothing more can be sent. */
  get clientGone() { return this.gone || this.res.destroyed }

  /** Sends the 200 and the SSE headers, and starts the keep-alive pings. */
  open() {
    if (this.opened || this.clientGone) return
    this.opened = true
    this.res.statusCode = 200
    this.res.setHeader('Content-Type', 'text/event-stream; charset=utf-8')
    this.res.setHeader('Cache-Control', 'no-cache, no-store, no-transform')
    this.res.setHeader('X-Accel-Buffering', 'no')
    this.res.setHeader('Connection', 'keep-alive')
    this.res.flushHeaders()
    this.ping = setInterval(() => void this.write(': ping\n\n'), this.pingMs)
    this.ping.unref()
  }

  /** One event; resolves when the client has taken it (waits on a full socket buffer, never on a gone client). */
  send<K extends ChatEventName>(name: K, data: ChatEvents[K]): Promise<void> | void {
    const paced = name === 'token' && this.tokenSent
    if (name === 'token') this.tokenSent = true
    return this.write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`, paced)
  }

  private write(chunk: string, paced = false): Promise<void> | void {
    if (!this.opened || this.ended || this.res.destroyed) return
    const wait = paced ? this.lastFlush + this.tokenFlushMs - performance.now() : 0
    if (wait > 0) this.holdUntilTimer(wait)
    else this.holdUntilTurnEnds()
    if (this.res.write(chunk)) return
    this.holdUntilTurnEnds()
    return new Promise((resolve) => {
      // a reader that does not drain in time is treated as gone: the slot is not held for a socket buffer
      const timer = setTimeout(() => this.res.destroy(), this.drainTimeoutMs)
      const done = () => { clearTimeout(timer); this.res.off('drain', done); this.res.off('close', done); resolve() }
      this.res.on('drain', done)
      this.res.on('close', done)
    })
  }

  /** Sends the held tokens now (the model's text is complete: the last ones need not wait for the pacing). */
  flush() { this.uncork() }

  /** Uncorks once this turn's microtasks are done (a pending paced flush is brought forward). */
  private holdUntilTurnEnds() {
    if (this.held?.until === 'turn') return
    if (this.held) this.stopTimer()
    else this.res.cork()
    this.held = { until: 'turn' }
    process.nextTick(this.uncork)
  }

  /** Uncorks in `wait` ms, unless something sends sooner. */
  private holdUntilTimer(wait: number) {
    if (this.held) return
    this.res.cork()
    this.held = { until: 'timer', timer: setTimeout(this.uncork, wait) }
  }

  private stopTimer() {
    if (this.held?.until === 'timer') clearTimeout(this.held.timer)
  }

  // `end()` flushes a corked socket itself; uncorking after it could release a cork the next request set
  private uncork = () => {
    if (!this.held) return
    this.stopTimer()
    this.held = null
    this.lastFlush = performance.now()
    if (!this.res.writableEnded && !this.res.destroyed) this.res.uncork()
  }

  end() {
    clearInterval(this.ping)
    this.stopTimer()
    if (this.ended) return
    this.ended = true
    if (this.opened && !this.res.destroyed) this.res.end()
  }
}
