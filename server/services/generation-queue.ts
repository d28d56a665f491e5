/**
 * A fair queue for model calls: at most `limit` run at once; waiting requests are served round-robin between
 * users (one turn per user with a waiter, in the order users first queued), FIFO within one user.
 * In-process: with several app processes each has its own queue (README "Scaling").
 */

/** Frees a slot or a mark; calling it twice is harmless. Across processes it resolves once Redis has it. */
export type Release = () => void | Promise<void>

interface Waiter {
  userId: string
  grant: (release: Release) => void
  reject: (error: unknown) => void
  onPosition?: (position: number) => void
  lastPosition: number
}

export interface AcquireOptions {
  /** Called with the 1-based place in line whenever it changes while waiting. */
  onPosition?: (position: number) => void
  /** Aborting stops waiting: the promise rejects with the signal's reason. */
  signal?: AbortSignal
}

export class GenerationQueue {
  private active = 0
  /** Waiters per user, FIFO; the Map's key order is the round-robin order. */
  private lines = new Map<string, Waiter[]>()

  constructor(private max: number) {}

  get limit() { return this.max }
  /** Changes the number of slots (admin setting); a higher limit lets waiters in at once. */
  set limit(value: number) { this.max = Math.max(1, value); this.dispatch() }

  get running() { return this.active }
  get waiting() { let n = 0; for (const line of this.lines.values()) n += line.length; return n }

  /** True when a new request would have to wait. */
  get full() { return this.active >= this.max || this.lines.size > 0 }

  /** Waits for a slot; the returned function frees it (calling it twice is harmless). */
  acquire(userId: string, options: AcquireOptions = {}): Promise<Release> {
    const { signal, onPosition } = options
    if (signal?.aborted) return Promise.reject(signal.reason)
    if (!this.full) return Promise.resolve(this.grantSlot())
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = { userId, grant: resolve, reject, onPosition, lastPosition: 0 }
      const line = this.lines.get(userId)
      if (line) line.push(waiter)
      else this.lines.set(userId, [waiter])
      signal?.addEventListener('abort', () => {
        if (this.remove(waiter)) { reject(signal.reason); this.announce() }
      }, { once: true })
      this.announce()
    })
  }

  /** Waiters in the order they will be served. */
  order(): Waiter[] {
    const lines = [...this.lines.values()].map(line => [...line])
    const out: Waiter[] = []
    for (let round = 0; lines.some(line => line.length > round); round++)
      for (const line of lines) if (line[round]) out.push(line[round]!)
    return out
  }

  private grantSlot(): Release {
    this.active++
    let released = false
    return () => {
      if (released) return
      released = true
      this.active--
      this.dispatch()
    }
  }

  private dispatch() {
    while (this.active < this.max && this.lines.size > 0) {
      const [userId, line] = this.lines.entries().next().value as [string, Waiter[]]
      const waiter = line.shift()!
      // the user's turn is used: they go to the back of the rotation (or leave it)
      this.lines.delete(userId)
      if (line.length) this.lines.set(userId, line)
      waiter.grant(this.grantSlot())
    }
    this.announce()
  }

  private remove(waiter: Waiter) {
    const line = this.lines.get(waiter.userId)
    const i = line?.indexOf(waiter) ?? -1
    if (!line || i < 0) return false
    line.splice(i, 1)
    if (!line.length) this.lines.delete(waiter.userId)
    return true
  }

  private announce() {
    this.order().forEach((waiter, i) => {
      if (waiter.lastPosition === i + 1) return
      waiter.lastPosition = i + 1
      waiter.onPosition?.(i + 1)
    })
  }
}

/**
 * What the chat and the orchestrator use: the one-answer-per-user rule and the fair queue of model slots.
 * `memorySlots` serves one process (the default); with REDIS_URL, `redisSlots` (generation-slots-redis.ts)
 * holds both in Redis, so they are global across app processes.
 */
export interface GenerationSlots {
  /** Marks the user as generating; null when they already are (on any process). The function unmarks. */
  claimUser: (userId: string) => Promise<Release | null>
  /**
   * Waits for a model slot, round-robin between users. `beforeWait` runs (and is awaited) once before the
   * first `onPosition`, only when the request has to wait. Aborting `signal` while waiting rejects.
   */
  acquire: (userId: string, options: SlotOptions) => Promise<Release>
  close?: () => Promise<void>
}

export interface SlotOptions extends AcquireOptions {
  /** settings.maxConcurrentGenerations, read on this turn (admin setting, the same on every process). */
  limit: number
  beforeWait?: () => Promise<void>
}

export function memorySlots(queue = new GenerationQueue(1)): GenerationSlots {
  const generating = new Map<string, symbol>()
  return {
    async claimUser(userId) {
      if (generating.has(userId)) return null
      const mark = Symbol(userId)
      generating.set(userId, mark)
      return () => { if (generating.get(userId) === mark) generating.delete(userId) }
    },
    async acquire(userId, { limit, beforeWait, signal, onPosition }) {
      queue.limit = limit
      if (!queue.full) return queue.acquire(userId)
      await beforeWait?.()
      return queue.acquire(userId, { signal, onPosition })
    },
  }
}
