import type { OfflineKey, OfflineKeyValue } from './idb'
import { type DataKey, isSealed, seal, unseal } from './offline-crypto'

/** Where a record lives, as the additional data of its encryption: a record copied under another key does not open. */
export const placeOf = (key: OfflineKey) => JSON.stringify(key)

/**
 * The offline key-value store with every value encrypted under `dataKey` (keys stay readable: they are ids).
 * A value that does not open (plain JSON from before encryption, another key's data, altered bytes) reads as
 * absent. Read-modify-write cannot stay inside one IndexedDB transaction across WebCrypto's awaits, so updates
 * of one key are chained in this page instead.
 */
export function createSealedStore(db: OfflineKeyValue, dataKey: DataKey): OfflineKeyValue {
  const open = async <T>(key: OfflineKey, value: unknown): Promise<T | undefined> => {
    if (!isSealed(value)) return undefined
    try { return await unseal<T>(dataKey, value, placeOf(key)) }
    catch { return undefined }
  }
  const chains = new Map<string, Promise<unknown>>()
  function serially<T>(key: OfflineKey, work: () => Promise<T>): Promise<T> {
    const id = placeOf(key)
    const run = (chains.get(id) ?? Promise.resolve()).then(work, work)
    const tail = run.catch(() => {})
    chains.set(id, tail)
    void tail.then(() => { if (chains.get(id) === tail) chains.delete(id) })
    return run
  }

  const sealed: OfflineKeyValue = {
    get: async <T>(key: OfflineKey) => open<T>(key, await db.get(key)),
    set: (key, value) => serially(key, async () => db.set(key, await seal(dataKey, value, placeOf(key)))),
    update: <T>(key: OfflineKey, updater: (old: T | undefined) => T | undefined) => serially(key, async () => {
      const next = updater(await open<T>(key, await db.get(key)))
      if (next === undefined) await db.delMany([key])
      else await db.set(key, await seal(dataKey, next, placeOf(key)))
    }),
    delMany: keys => db.delMany(keys),
    async entries<T>(prefix: Parameters<OfflineKeyValue['entries']>[0]) {
      const opened = await Promise.all((await db.entries(prefix)).map(async ([key, value]) => [key, await open<T>(key, value)] as const))
      return opened.filter((entry): entry is [OfflineKey, Awaited<T>] => entry[1] !== undefined) as Array<[OfflineKey, T]>
    },
    keys: prefix => db.keys(prefix),
    clear: prefix => db.clear(prefix),
    owners: () => db.owners(),
  }
  return sealed
}
