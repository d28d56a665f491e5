import { EventEmitter } from 'node:events'
import { connectRedis } from '../utils/redis'
import type { LiveEventName, LiveEvents } from '#shared/messaging'

/**
 * A small publish/subscribe bus for live events (API.md "Live events"). Topics are strings: `user:<id>` reaches
 * one person's open streams; `reports` reaches staff streams, which filter by their own scope. The in-process
 * bus serves one app process; with REDIS_URL the Redis bus carries every event through one pub/sub channel to
 * every app process, each of which hands it to its own streams. Publishers and subscribers only see `EventBus`.
 */

export interface LiveMessage<K extends LiveEventName = LiveEventName> {
  event: K
  data: LiveEvents[K]
  /** For `reports` topic messages: whose report it is, so each staff stream can check its own scope. */
  reporterId?: string
}

/**
 * What travels on the bus: a live event as sent, several at once for one topic (each stream sends them one by
 * one, in order), or word that a user's unread count changed (each stream counts).
 */
export type BusMessage = LiveMessage | { event: 'batch', messages: LiveMessage[] } | { event: 'unread-changed' }

export type Listener = (message: BusMessage) => void

export interface EventBus {
  publish: (topic: string, message: BusMessage) => Promise<void>
  /** Returns the function that unsubscribes. */
  subscribe: (topic: string, listener: Listener) => () => void
  /** Resolves once events published by other processes are being received (at once for the memory bus). */
  ready: () => Promise<void>
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
    ready: async () => {},
  }
}

const CHANNEL = 'energyapp:events'

/** Every process publishes to one Redis channel and delivers what arrives on it to its local subscribers. */
export function redisBus(url: string): EventBus {
  const local = memoryBus()
  // a subscribed connection can only listen, so publishing needs its own
  const publisher = connectRedis(url, { lazyConnect: true, maxRetriesPerRequest: 2 })
  const subscriber = connectRedis(url, { lazyConnect: true })
  subscriber.on('message', (_channel: string, raw: string) => {
    try {
      const { topic, message } = JSON.parse(raw) as { topic: string, message: BusMessage }
      void local.publish(topic, message)
    }
    catch {}
  })
  const listening = subscriber.subscribe(CHANNEL).then(() => {}, () => {})
  return {
    async publish(topic, message) {
      await publisher.publish(CHANNEL, JSON.stringify({ topic, message }))
    },
    subscribe: local.subscribe,
    // bounded: a stream still opens (and catches up on its next reconnect) when Redis is slow to answer
    ready: () => Promise.race([listening, new Promise<void>(resolve => setTimeout(resolve, 2000).unref())]),
  }
}

let bus: EventBus | undefined

export function useEventBus(): EventBus {
  if (bus) return bus
  const { redisUrl } = useConfig()
  return (bus = redisUrl ? redisBus(redisUrl) : memoryBus())
}
/** Swaps the bus (a Redis implementation, or a fresh one in tests). */
export const setEventBus = (next: EventBus) => { bus = next }

export const userTopic = (userId: string) => `user:${userId}`
export const REPORTS_TOPIC = 'reports'

/**
 * Publishes without ever failing or holding up the request that caused the event: the database write is the
 * truth, and a client that missed an event reads the state again when it reconnects.
 */
export function publish<K extends LiveEventName>(topic: string, event: K, data: LiveEvents[K], reporterId?: string) {
  send(topic, { event, data, reporterId })
}

/** Many events for one topic as one bus message (one Redis publish, not one per event), e.g. a read-all's. */
export function publishAll(topic: string, messages: LiveMessage[]) {
  if (messages.length) send(topic, messages.length === 1 ? messages[0]! : { event: 'batch', messages })
}

/** Tells a user's streams that their unread count may have changed; each stream counts and sends it if it did. */
export const publishUnreadChanged = (userId: string) => send(userTopic(userId), { event: 'unread-changed' })

function send(topic: string, message: BusMessage) {
  try { void useEventBus().publish(topic, message).catch(() => {}) }
  catch {}
}
