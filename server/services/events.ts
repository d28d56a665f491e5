import { EventEmitter } from 'node:events'
import type { LiveEventName, LiveEvents } from '#shared/messaging'

/**
 * A small publish/subscribe bus for live events (API.md "Live events"). Topics are strings: `user:<id>` reaches
 * one person's open streams; `reports` reaches staff streams, which filter by their own scope. The in-process
 * bus serves one app process; a Redis pub/sub bus with the same interface can replace it for REDIS_URL
 * (`setEventBus`), because publishers and subscribers only ever see this interface.
 */

export interface LiveMessage<K extends LiveEventName = LiveEventName> {
  event: K
  data: LiveEvents[K]
  /** For `reports` topic messages: whose report it is, so each staff stream can check its own scope. */
  reporterId?: string
}

export type Listener = (message: LiveMessage) => void

export interface EventBus {
  publish: (topic: string, message: LiveMessage) => Promise<void>
  /** Returns the function that unsubscribes. */
  subscribe: (topic: string, listener: Listener) => () => void
}

export function memoryBus(): EventBus {
  const emitter = new EventEmitter()
  // one listener per open stream: hundreds are normal, not a leak
  emitter.setMaxListeners(0)
  return {
    async publish(topic, message) {
      for (const listener of emitter.listeners(topic) as Listener[]) {
        // a failing stream must not keep the event from the others
        try { listener(message) }
        catch {}
      }
    },
    subscribe(topic, listener) {
      emitter.on(topic, listener)
      return () => { emitter.off(topic, listener) }
    },
  }
}

let bus: EventBus = memoryBus()

export const useEventBus = () => bus
/** Swaps the bus (a Redis implementation, or a fresh one in tests). */
export const setEventBus = (next: EventBus) => { bus = next }

export const userTopic = (userId: string) => `user:${userId}`
export const REPORTS_TOPIC = 'reports'

/** Publishes without ever failing the request that caused the event: the database write is the truth. */
export async function publish<K extends LiveEventName>(topic: string, event: K, data: LiveEvents[K], reporterId?: string) {
  try { await bus.publish(topic, { event, data, reporterId }) }
  catch {}
}
