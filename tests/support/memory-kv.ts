import type { OfflineKey, OfflineKeyPrefix, OfflineKeyValue } from '../../utils/idb'

/** The key-value contract of utils/idb.ts over a Map (prefix = the key's first parts), JSON-copied like IndexedDB. */
export function memoryDb(): OfflineKeyValue & { dump: () => Map<string, unknown> } {
  const records = new Map<string, unknown>()
  const id = (key: OfflineKey) => JSON.stringify(key)
  const starts = (key: string, prefix: OfflineKeyPrefix) => prefix.every((part, i) => (JSON.parse(key) as string[])[i] === part)
  const copy = <T>(value: T): T => (value === undefined ? value : JSON.parse(JSON.stringify(value)) as T)
  return {
    get: async <T>(key: OfflineKey) => copy(records.get(id(key)) as T | undefined),
    set: async (key, value) => { records.set(id(key), copy(value)) },
    update: async <T>(key: OfflineKey, updater: (old: T | undefined) => T | undefined) => {
      const next = updater(copy(records.get(id(key)) as T | undefined))
      if (next === undefined) records.delete(id(key))
      else records.set(id(key), copy(next))
    },
    delMany: async (keys) => { for (const key of keys) records.delete(id(key)) },
    entries: async <T>(prefix: OfflineKeyPrefix) =>
      [...records.entries()].filter(([key]) => starts(key, prefix)).sort(([a], [b]) => a.localeCompare(b))
        .map(([key, value]) => [JSON.parse(key) as OfflineKey, copy(value as T)] as [OfflineKey, T]),
    keys: async prefix => [...records.keys()].filter(key => starts(key, prefix)).sort().map(key => JSON.parse(key) as OfflineKey),
    clear: async (prefix) => { for (const key of [...records.keys()]) if (starts(key, prefix)) records.delete(key) },
    owners: async () => [...new Set([...records.keys()].map(key => (JSON.parse(key) as string[])[0]!))],
    dump: () => records,
  }
}
