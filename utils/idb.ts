import { promisifyRequest, type UseStore } from 'idb-keyval'
import * as kv from 'idb-keyval'
import { OFFLINE_DB_NAME } from '#shared/offline'

/**
 * A key in the offline database. The first part says whose it is: a user id for everything that user saw or
 * typed, `device` for the few device-wide records (the last signed-in user, the storage budget). Keys are
 * arrays so one user's records form a contiguous key range that can be read or deleted at once.
 */
export type OfflineKey = [owner: string, kind: string, ...rest: string[]]
export type OfflineKeyPrefix = [owner: string, ...rest: string[]]

/** What the offline history needs from a key-value store; `offlineDb` is the IndexedDB one. */
export interface OfflineKeyValue {
  get<T>(key: OfflineKey): Promise<T | undefined>
  set(key: OfflineKey, value: unknown): Promise<void>
  /** Read-modify-write in one transaction; `undefined` from `updater` deletes the record. */
  update<T>(key: OfflineKey, updater: (old: T | undefined) => T | undefined): Promise<void>
  delMany(keys: OfflineKey[]): Promise<void>
  /** Every record whose key starts with `prefix`, in key order. */
  entries<T>(prefix: OfflineKeyPrefix): Promise<Array<[OfflineKey, T]>>
  /** The keys that start with `prefix` (values not read). */
  keys(prefix: OfflineKeyPrefix): Promise<OfflineKey[]>
  /** Deletes every record whose key starts with `prefix`. */
  clear(prefix: OfflineKeyPrefix): Promise<void>
  /** The owners that have records (the first key part). */
  owners(): Promise<string[]>
}

const DB_NAME = OFFLINE_DB_NAME
const STORE_NAME = 'records'

// arrays sort after strings, so [...prefix, []] is just past every key that starts with prefix
const prefixRange = (prefix: OfflineKeyPrefix) => IDBKeyRange.bound(prefix, [...prefix, []])

/**
 * Store values as plain JSON: pinia hands out reactive proxies (even nested ones, which toRaw() does not
 * unwrap), and IndexedDB's structured clone throws on a proxy. Everything cached is JSON from the API anyway.
 */
export const toPlainRecord = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T

let connection: Promise<IDBDatabase> | null = null

function open(): Promise<IDBDatabase> {
  const request = indexedDB.open(DB_NAME, 1)
  request.onupgradeneeded = () => request.result.createObjectStore(STORE_NAME)
  return promisifyRequest(request).then((db) => {
    // another tab deleting or upgrading the database must not wait on this one
    db.onversionchange = () => close()
    db.onclose = () => { connection = null }
    return db
  }, (error: unknown) => {
    connection = null
    throw error
  })
}

function close() {
  const pending = connection
  connection = null
  void pending?.then(db => db.close(), () => {})
}

// one lazily opened connection, closed while the page is frozen (elk's way: a frozen page must not hold the database)
const store: UseStore = (mode, callback) => {
  connection ??= open()
  return connection.then(db => callback(db.transaction(STORE_NAME, mode).objectStore(STORE_NAME)))
}
if (typeof document !== 'undefined') document.addEventListener('freeze', close)

/** The app's one IndexedDB database (`energyapp-offline`), one object store of JSON records under array keys. */
export const offlineDb: OfflineKeyValue = {
  get: <T>(key: OfflineKey) => kv.get<T>(key, store),
  set: (key, value) => kv.set(key, toPlainRecord(value), store),
  update: <T>(key: OfflineKey, updater: (old: T | undefined) => T | undefined) =>
    store('readwrite', (objects) => {
      const read = objects.get(key)
      return new Promise<void>((resolve, reject) => {
        read.onerror = () => reject(read.error)
        read.onsuccess = () => {
          const next = updater(read.result as T | undefined)
          const write = next === undefined ? objects.delete(key) : objects.put(toPlainRecord(next), key)
          write.onsuccess = () => resolve()
          write.onerror = () => reject(write.error)
        }
      })
    }),
  delMany: keys => kv.delMany(keys, store),
  entries: <T>(prefix: OfflineKeyPrefix) =>
    store('readonly', async (objects) => {
      const range = prefixRange(prefix)
      const [keys, values] = await Promise.all([promisifyRequest(objects.getAllKeys(range)), promisifyRequest(objects.getAll(range))])
      return keys.map((key, i) => [key as OfflineKey, values[i] as T] as [OfflineKey, T])
    }),
  keys: prefix => store('readonly', async objects => (await promisifyRequest(objects.getAllKeys(prefixRange(prefix)))) as OfflineKey[]),
  clear: prefix => store('readwrite', objects => promisifyRequest(objects.delete(prefixRange(prefix)))),
  owners: () =>
    store('readonly', async (objects) => {
      const keys = await promisifyRequest(objects.getAllKeys())
      return [...new Set(keys.map(key => String((key as OfflineKey)[0])))]
    }),
}
