import type { Sealed } from '~/utils/offline-crypto'

export interface JournalEntry { id: string, sealed: Sealed }

/**
 * Writes not yet confirmed in IndexedDB, per user, in localStorage under `prefix + userId`: a localStorage write is
 * done before a reload or a navigation can cut it off, an IndexedDB write in flight is not. The caller seals each
 * entry with the offline cache's data key first, so nothing is stored in the clear; it replays the entries when the
 * cache next opens and removes each once its IndexedDB write has landed. Storage errors (private mode, a full quota)
 * are ignored: the journal is a safety net under IndexedDB, not a store of its own.
 */
export function sealedJournal(prefix: string) {
  const key = (userId: string) => prefix + userId
  const journal = {
    /** The user's entries, oldest first; a malformed one is dropped (a sealed value that does not open, by the caller). */
    entries(userId: string): JournalEntry[] {
      try {
        const entries = JSON.parse(localStorage.getItem(key(userId)) ?? '[]') as JournalEntry[]
        return Array.isArray(entries) ? entries.filter(e => e && typeof e.id === 'string' && !!e.sealed && typeof e.sealed === 'object') : []
      }
      catch { return [] }
    },
    write(userId: string, entries: JournalEntry[]) {
      try {
        if (entries.length) localStorage.setItem(key(userId), JSON.stringify(entries))
        else localStorage.removeItem(key(userId))
      }
      catch {}
    },
    /** Adds an entry, or replaces the one with its id (it moves to the end). */
    put(userId: string, entry: JournalEntry) {
      journal.write(userId, [...journal.entries(userId).filter(e => e.id !== entry.id), entry])
    },
    remove(userId: string, id: string) {
      const entries = journal.entries(userId)
      if (entries.some(e => e.id === id)) journal.write(userId, entries.filter(e => e.id !== id))
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
