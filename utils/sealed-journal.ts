import type { Sealed } from '~/utils/offline-crypto'

interface JournalEntry { id: string, sealed: Sealed }

/** What a journal needs of the open offline cache: whose it is, and sealing with its data key. */
export interface SealingCache {
  userId: string
  /** Seals synchronously: the journal write is done before a navigation can cut the page off. */
  sealSync: (value: unknown, aad: string) => Sealed
  unseal: <T>(sealed: Sealed, aad: string) => Promise<T>
}

/**
 * Writes not yet confirmed in IndexedDB, per user, in localStorage under `energyapp:<name>:<userId>`: a localStorage
 * write is done before a reload or a navigation can cut it off, an IndexedDB write in flight is not. Each entry is
 * sealed with the offline cache's data key (bound to the journal and the user), so nothing is stored in the clear.
 * The caller replays the entries when the cache next opens and removes each once its IndexedDB write has landed.
 * Storage errors (private mode, a full quota) are ignored: the journal is a safety net under IndexedDB, not a store
 * of its own.
 */
export function sealedJournal<T>(name: string) {
  const prefix = `energyapp:${name}:`
  const key = (userId: string) => prefix + userId
  const aad = (userId: string) => `${name}:${userId}`

  function entries(userId: string): JournalEntry[] {
    try {
      const stored = JSON.parse(localStorage.getItem(key(userId)) ?? '[]') as JournalEntry[]
      return Array.isArray(stored) ? stored.filter(e => e && typeof e.id === 'string' && !!e.sealed && typeof e.sealed === 'object') : []
    }
    catch { return [] }
  }
  function write(userId: string, list: JournalEntry[]) {
    try {
      if (list.length) localStorage.setItem(key(userId), JSON.stringify(list))
      else localStorage.removeItem(key(userId))
    }
    catch {}
  }

  const journal = {
    /** Seals `value` and adds it, or replaces the entry with its id (it moves to the end). */
    put(cache: SealingCache, id: string, value: T) {
      const sealed = cache.sealSync(value, aad(cache.userId))
      write(cache.userId, [...entries(cache.userId).filter(e => e.id !== id), { id, sealed }])
    },
    /** The cache's user's entries that open with its key, oldest first; one that does not open (malformed, or sealed with another key) is dropped. */
    async read(cache: SealingCache): Promise<Array<{ id: string, value: T }>> {
      const opened = await Promise.all(entries(cache.userId).map(async ({ id, sealed }) => {
        try { return { id, value: await cache.unseal<T>(sealed, aad(cache.userId)) } }
        catch {
          journal.remove(cache.userId, id)
          return null
        }
      }))
      return opened.filter(entry => entry !== null)
    },
    remove(userId: string, id: string) {
      const list = entries(userId)
      if (list.some(e => e.id === id)) write(userId, list.filter(e => e.id !== id))
    },
    clear(userId: string) {
      write(userId, [])
    },
    /** Every user's journal but `keep`'s goes (a shared device: the last user may not have signed out). */
    clearOthers(keep: string | null) {
      try {
        for (const name of Object.keys(localStorage))
          if (name.startsWith(prefix) && name !== (keep === null ? null : key(keep))) localStorage.removeItem(name)
      }
      catch {}
    },
  }
  return journal
}
