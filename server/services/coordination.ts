import type { Redis } from 'ioredis'
import { connectRedis } from '../utils/redis'
import { type GenerationSlots, memorySlots } from './generation-queue'
import { redisSlots } from './generation-slots-redis'
import { onShutdown } from './shutdown'

/**
 * What the app processes share about running answers: the generation slots (one answer per user, the fair
 * queue) and "stop this conversation's answer". In one process (no REDIS_URL) both live in memory; with
 * REDIS_URL the slots are leases in Redis and a stop travels to every process on a Redis channel.
 */

// a slot's or mark's lease: renewed every third of it while the answer runs; a killed process's expire after it
export const leaseMs = () => useConfig().generationLeaseMs

const STOP_CHANNEL = 'energyapp:chat-stop'

let slots: GenerationSlots | undefined
let publisher: Redis | undefined

export function useGenerationSlots(): GenerationSlots {
  if (slots) return slots
  const { redisUrl } = useConfig()
  if (!redisUrl) return (slots = memorySlots())
  const redis = connectRedis(redisUrl, { maxRetriesPerRequest: 2 })
  redis.on('error', () => {})
  publisher = redis
  listenForStops(redisUrl)
  slots = redisSlots(redis, leaseMs())
  return slots
}

/** The halts of the answers running in this process, by conversation. */
const running = new Map<string, Set<() => void>>()

/** Registers a running answer's halt; returns the function that unregisters it. */
export function onStopRequest(conversationId: string, halt: () => void) {
  useGenerationSlots()
  const set = running.get(conversationId) ?? new Set()
  set.add(halt)
  running.set(conversationId, set)
  return () => {
    set.delete(halt)
    if (!set.size && running.get(conversationId) === set) running.delete(conversationId)
  }
}

function haltHere(conversationId: string) {
  for (const halt of running.get(conversationId) ?? []) halt()
}

/** Stops the answer running for a conversation, on whichever process it runs. */
export async function stopAnswer(conversationId: string) {
  useGenerationSlots()
  haltHere(conversationId)
  if (publisher) await publisher.publish(STOP_CHANNEL, conversationId)
}

function listenForStops(url: string) {
  const subscriber = connectRedis(url)
  subscriber.on('error', () => {})
  subscriber.on('message', (_channel: string, conversationId: string) => haltHere(conversationId))
  void subscriber.subscribe(STOP_CHANNEL).catch(() => {})
  onShutdown(() => {
    void slots?.close?.()
    subscriber.disconnect()
  })
}
