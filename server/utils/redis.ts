import type { Redis, RedisOptions } from 'ioredis'
import type { Driver } from 'unstorage'

type RedisDriverOptions = Parameters<typeof import('unstorage/drivers/redis').default>[0]

/**
 * ioredis (and unstorage's Redis driver, which imports it), loaded during start-up and only when REDIS_URL is set
 * (server/plugins/01.startup.ts, before the app is ready): a single-process server never loads them, which saves
 * about 200 ms of CPU at each start and ~18 MB of memory (bench/README.md, session 28). Every Redis connection of
 * the app is opened here.
 */
let loaded: { Redis: typeof import('ioredis').default, driver: typeof import('unstorage/drivers/redis').default } | undefined

export async function loadRedisClient() {
  if (loaded) return
  const [{ default: Redis }, { default: driver }] = await Promise.all([import('ioredis'), import('unstorage/drivers/redis')])
  loaded = { Redis, driver }
}

function client() {
  if (!loaded) throw new Error('Redis was asked for before start-up loaded its client (or without REDIS_URL)')
  return loaded
}

/** A new connection to `url` (REDIS_URL). */
export const connectRedis = (url: string, options: RedisOptions = {}): Redis => new (client().Redis)(url, options)

/** unstorage's Redis driver (the shared key-value store, server/utils/kv.ts). */
export const redisStorageDriver = (options: RedisDriverOptions): Driver => client().driver(options)
