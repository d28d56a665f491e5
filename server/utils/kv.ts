import { createStorage, type Storage } from 'unstorage'
import memoryDriver from 'unstorage/drivers/memory'
import { redisStorageDriver } from './redis'

let storage: Storage | undefined

/** Short-lived shared state (rate limits, 2FA challenges): memory, or Redis when REDIS_URL is set. */
export function useKv(): Storage {
  if (storage) return storage
  const { redisUrl } = useConfig()
  storage = createStorage({ driver: redisUrl ? redisStorageDriver({ url: redisUrl, base: 'energyapp' }) : memoryDriver() })
  // the memory driver ignores TTLs: sweep expired entries so many distinct emails/addresses cannot grow it forever
  if (!redisUrl) setInterval(() => void sweepExpired(storage!), SWEEP_MS).unref()
  return storage
}

const SWEEP_MS = 60_000

/** Drops rate-limit windows and expiring values whose time is over (memory driver only). */
export async function sweepExpired(kv: Storage) {
  const now = Date.now()
  for (const key of await kv.getKeys()) {
    const value = await kv.getItem<{ resetAt?: number, expiresAt?: number }>(key)
    const end = value?.resetAt ?? value?.expiresAt
    if (end !== undefined && end <= now) await kv.removeItem(key)
  }
}

interface Expiring<T> { value: T, expiresAt: number }

/** Reads a value written by `putExpiring`; expired entries read as null. */
export async function getExpiring<T>(key: string): Promise<T | null> {
  const entry = await useKv().getItem<Expiring<T>>(key)
  if (!entry || entry.expiresAt <= Date.now()) return null
  return entry.value
}

export async function putExpiring<T>(key: string, value: T, ttlMs: number) {
  // the redis driver honours `ttl` (seconds); the memory driver relies on the expiry stored with the value
  await useKv().setItem(key, { value, expiresAt: Date.now() + ttlMs }, { ttl: Math.ceil(ttlMs / 1000) })
}
