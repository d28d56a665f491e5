import type { ApiConversation, ApiList, ApiMessage } from '#shared/types'
import type { OfflineKey, OfflineKeyValue } from './idb'

/** Per conversation, the newest messages kept (a very long conversation must not fill the device). */
export const OFFLINE_MESSAGES_PER_CONVERSATION = 1000

export interface ConversationPageRequest { offset: number, limit: number, q: string }
export interface OfflineHistoryStats { conversations: number, messages: number, bytes: number }

/** The order of GET /api/conversations: pinned first, then the most recently updated. */
export function serverOrder(a: ApiConversation, b: ApiConversation) {
  if (a.pinned !== b.pinned) return a.pinned ? -1 : 1
  return b.updatedAt.localeCompare(a.updatedAt)
}

// "cancion" finds "Canción": offline search forgives case and accents, as people type on phones
export const searchable = (text: string) => text.normalize('NFD').replace(/\p{Diacritic}/gu, '').toLowerCase()

// messages that never reached the server carry a local id; the server's copy replaces them on the next load
const isSaved = (message: ApiMessage) => !message.id.startsWith('local-')

/**
 * Merges one page of the server's conversation list into the cached list. A search page only adds and
 * updates; a page of the full list also drops cached conversations that fall inside the page's span of the
 * server order but are missing from it (deleted or reassigned elsewhere), except those `keep` names: saved on this
 * device after the page was asked for (a conversation started meanwhile is missing from the page, not deleted).
 */
export function mergeConversationPage(cached: ApiConversation[], page: ApiList<ApiConversation>, request: ConversationPageRequest, keep: Keep = keepNone) {
  const incoming = new Map(page.data.map(c => [c.id, c]))
  let kept = cached.filter(c => !incoming.has(c.id))
  if (!request.q.trim()) {
    const first = request.offset === 0 ? null : page.data[0]
    const last = request.offset + page.data.length >= page.total ? null : page.data.at(-1)
    // an empty middle page says nothing about where its span lies
    if (page.data.length || request.offset === 0)
      kept = kept.filter(c => keep(c.id) || (first && serverOrder(c, first) < 0) || (last && serverOrder(c, last) > 0))
  }
  return [...kept, ...incoming.values()].sort(serverOrder)
}

/**
 * Conversations a list page must not drop: asked at the moment of use (not a set taken once), since the page's own
 * writes are async and a conversation saved while they run is just as new.
 */
export type Keep = (conversationId: string) => boolean
const keepNone: Keep = () => false

/** Whether a page is the user's whole list as the server has it (the first page of no search, holding every one). */
const wholeList = (page: ApiList<ApiConversation>, request: ConversationPageRequest) =>
  request.offset === 0 && !request.q.trim() && page.data.length >= page.total

/** Splits a list into the newest `max` by last update and the rest (to evict), each in server order. */
export function splitByBudget(list: ApiConversation[], max: number) {
  const newest = [...list].sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
  const keepIds = new Set(newest.slice(0, Math.max(0, max)).map(c => c.id))
  return { keep: list.filter(c => keepIds.has(c.id)), evict: list.filter(c => !keepIds.has(c.id)) }
}

/** A conversation's cached messages with a newer page merged in: one copy per id, oldest first, bounded. */
export function mergeMessages(cached: ApiList<ApiMessage> | undefined, page: ApiList<ApiMessage>): ApiList<ApiMessage> {
  const byId = new Map((cached?.data ?? []).map(m => [m.id, m]))
  for (const message of page.data.filter(isSaved)) byId.set(message.id, message)
  const data = [...byId.values()]
    .sort((a, b) => a.createdAt.localeCompare(b.createdAt))
    .slice(-OFFLINE_MESSAGES_PER_CONVERSATION)
  return { total: Math.max(page.total, cached?.total ?? 0, data.length), data }
}

/**
 * One user's saved conversations and messages in the offline database: written as the app reads them from
 * the server, read back when it cannot reach it. Every key starts with the user's id.
 */
export function createOfflineHistory(db: OfflineKeyValue, userId: string, budget: () => number) {
  const listKey: OfflineKey = [userId, 'conversations']
  const messagesKey = (id: string): OfflineKey => [userId, 'messages', id]

  /** Applies `change` to the cached list, then evicts past the budget; the messages of every conversation that left it go too. */
  async function changeList(change: (list: ApiConversation[]) => ApiConversation[]) {
    let left: string[] = []
    await db.update<ApiConversation[]>(listKey, (old) => {
      const { keep } = splitByBudget(change(old ?? []), budget())
      const kept = new Set(keep.map(c => c.id))
      left = (old ?? []).map(c => c.id).filter(id => !kept.has(id))
      return keep
    })
    if (left.length) await db.delMany(left.map(messagesKey))
  }

  /**
   * Messages whose conversation is not listed, except those `keep` names. Only swept when the server's whole list is known: a
   * conversation's messages can be saved before its list entry (an answer that ends before the new conversation is
   * fetched, then a page load), and it is listed from the server's next list.
   */
  async function sweepUnlisted(keep: Keep) {
    const listed = new Set((await cachedList()).map(c => c.id))
    const orphans = (await db.keys([userId, 'messages'])).filter(key => !listed.has(key[2]!) && !keep(key[2]!))
    if (orphans.length) await db.delMany(orphans)
  }

  const cachedList = async () => (await db.get<ApiConversation[]>(listKey)) ?? []

  return {
    userId,

    /** A page of the server's list; `keep`: conversations saved here since it was asked for (see mergeConversationPage). */
    async savePage(page: ApiList<ApiConversation>, request: ConversationPageRequest, keep: Keep = keepNone) {
      await changeList(list => mergeConversationPage(list, page, request, keep))
      if (wholeList(page, request)) await sweepUnlisted(keep)
    },

    saveConversation: (conversation: ApiConversation) =>
      changeList(list => [...list.filter(c => c.id !== conversation.id), conversation].sort(serverOrder)),

    async forgetConversation(id: string) {
      await changeList(list => list.filter(c => c.id !== id))
      await db.delMany([messagesKey(id)])
    },

    /** A page of the cached list, searched the way the server would (titles and message text). */
    async listPage(request: ConversationPageRequest): Promise<ApiList<ApiConversation>> {
      let list = await cachedList()
      const q = searchable(request.q.trim())
      if (q) {
        const texts = new Map<string, string>()
        for (const [key, page] of await db.entries<ApiList<ApiMessage>>([userId, 'messages']))
          texts.set(key[2]!, searchable(page.data.map(m => m.content).join('\n')))
        list = list.filter(c => searchable(c.title).includes(q) || !!texts.get(c.id)?.includes(q))
      }
      return { total: list.length, data: list.slice(request.offset, request.offset + request.limit) }
    },

    /** The conversations whose messages are saved (readable offline). */
    savedIds: async () => new Set((await db.keys([userId, 'messages'])).map(key => key[2]!)),

    conversation: async (id: string) => (await cachedList()).find(c => c.id === id),
    messages: (id: string) => db.get<ApiList<ApiMessage>>(messagesKey(id)),

    /** Saves what the app shows of a conversation (merged with what was saved before). */
    saveMessages: (id: string, page: ApiList<ApiMessage>) =>
      db.update<ApiList<ApiMessage>>(messagesKey(id), old => mergeMessages(old, page)),

    /** Drops conversations past a (new, smaller) budget, with their messages. */
    enforceBudget: () => changeList(list => list),

    async stats(): Promise<OfflineHistoryStats> {
      const list = await cachedList()
      const pages = await db.entries<ApiList<ApiMessage>>([userId, 'messages'])
      const bytes = JSON.stringify(list).length + pages.reduce((sum, [, page]) => sum + JSON.stringify(page).length, 0)
      return { conversations: list.length, messages: pages.reduce((sum, [, page]) => sum + page.data.length, 0), bytes }
    },

    /** Forgets the saved conversations and messages, message threads and reports (not the outbox: typed text is never dropped silently). */
    async clear() {
      await db.clear([userId, 'conversations'])
      await db.clear([userId, 'messages'])
      await db.clear([userId, 'dms'])
      await db.clear([userId, 'reports'])
    },
  }
}

export type OfflineHistory = ReturnType<typeof createOfflineHistory>
