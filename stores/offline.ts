import type { ApiConversation, ApiList, ApiMessage, ApiUser } from '#shared/types'
import { offlineDb } from '~/utils/idb'
import { type ConversationPageRequest, createOfflineHistory, DEFAULT_OFFLINE_CONVERSATIONS, type OfflineHistory, type OfflineHistoryStats } from '~/utils/idb-history'

const DEVICE = 'device'
const PROBE_MS = 15_000

/** A conversation and the newest page of its messages, as the chat store opens it. */
type OpenedConversation = [ApiConversation, ApiList<ApiMessage>]

const isNetworkError = (error: unknown) => isApiError(error) && error.statusCode === 0

/**
 * The signed-in user's offline copy of what they have seen: the user record (so the app opens without the
 * server), their conversation list and opened conversations, and whether the server can be reached. Reads
 * go to the network first; the copy answers only when the network does not. All storage failures are
 * swallowed: the copy is a convenience and a full or blocked IndexedDB must never break the online app.
 */
export const useOfflineStore = defineStore('offline', () => {
  const online = useOnline()
  const userId = ref<string | null>(null)
  /** A request failed without an answer while the browser believed it was online (server down, captive wifi). */
  const serverUnreachable = ref(false)
  const offline = computed(() => !online.value || serverUnreachable.value)
  /** Conversations this device keeps (newest first); the rest are evicted. */
  const budget = ref(DEFAULT_OFFLINE_CONVERSATIONS)
  let history: OfflineHistory | null = null

  const supported = () => import.meta.client && typeof indexedDB !== 'undefined'

  async function quietly<T>(work: () => Promise<T>): Promise<T | undefined> {
    if (!supported()) return undefined
    try { return await work() }
    catch { return undefined }
  }

  /** Runs a write for `mine` only while it is still the signed-in user's (a late answer must not refill a wiped device). */
  const whileCurrent = (mine: OfflineHistory, work: () => Promise<void>) => quietly(async () => { if (history === mine) await work() })

  function use(id: string) {
    if (userId.value === id && history) return history
    userId.value = id
    history = createOfflineHistory(offlineDb, id, () => budget.value)
    return history
  }

  /** Someone signed in (or was confirmed by /api/auth/me): remember them, and forget anyone else's data. */
  async function signedIn(user: ApiUser) {
    const changed = userId.value !== user.id
    const mine = use(user.id)
    await quietly(async () => {
      await offlineDb.set([DEVICE, 'user'], user)
      if (!changed) return
      const saved = await offlineDb.get<number>([DEVICE, 'budget'])
      if (saved) budget.value = saved
      // a shared tablet: the previous user may have left without signing out; their history must not stay
      for (const owner of await offlineDb.owners())
        if (owner !== DEVICE && owner !== user.id) await offlineDb.clear([owner])
      await mine.enforceBudget()
    })
  }

  /** The user who was last signed in on this device, for opening the app without the server. */
  const cachedUser = async () => (await quietly(() => offlineDb.get<ApiUser>([DEVICE, 'user']))) ?? null

  /** /api/auth/me got no answer at all: the user last signed in here (if any) opens the app from the saved copy. */
  async function userWithoutServer() {
    if (online.value) markUnreachable()
    return cachedUser()
  }

  /** Signed out or session revoked: everything of that user leaves the device, and any runtime caches with it. */
  async function signedOut(leavingId?: string) {
    const id = leavingId ?? userId.value ?? (await cachedUser())?.id
    userId.value = null
    history = null
    await quietly(async () => {
      const remembered = await offlineDb.get<ApiUser>([DEVICE, 'user'])
      if (!id || remembered?.id === id) await offlineDb.clear([DEVICE, 'user'])
      if (id) await offlineDb.clear([id])
    })
    await clearRuntimeCaches()
  }

  /**
   * Asks the network, saves the answer, and falls back to the saved copy when there is no answer at all.
   * Errors with an answer (404, 401 …) are passed on untouched: the server has spoken.
   */
  async function networkFirst<T>(network: () => Promise<T>, save: (value: T) => Promise<unknown>, fallback: () => Promise<T | undefined>): Promise<T> {
    if (online.value) {
      try {
        const value = await network()
        serverUnreachable.value = false
        void save(value)
        return value
      }
      catch (error) {
        if (!isNetworkError(error)) throw error
        markUnreachable()
      }
    }
    const cached = await quietly(fallback)
    if (cached === undefined) throw new ApiRequestError(0, 'Offline')
    return cached
  }

  /** A page of the conversation list: the server's, or the saved one searched locally. */
  function conversationPage(request: ConversationPageRequest, network: () => Promise<ApiList<ApiConversation>>) {
    const mine = history
    if (!mine) return network()
    return networkFirst(network, page => whileCurrent(mine, () => mine.savePage({ ...page, data: page.data.filter(c => c.userId === mine.userId) }, request)), () => mine.listPage(request))
  }

  /** A conversation and its newest messages: the server's, or the saved copy when it was opened before. */
  function openConversation(id: string, network: () => Promise<OpenedConversation>) {
    const mine = history
    if (!mine) return network()
    return networkFirst<OpenedConversation>(
      network,
      ([conversation, page]) => whileCurrent(mine, async () => {
        if (conversation.userId !== mine.userId) return
        await mine.saveConversation(conversation)
        await mine.saveMessages(id, page)
      }),
      async () => {
        const [conversation, page] = await Promise.all([mine.conversation(id), mine.messages(id)])
        return conversation && page ? [conversation, page] : undefined
      },
    )
  }

  /** A conversation changed (created, renamed, pinned, answered): keep the saved list in step. */
  function saveConversation(conversation: ApiConversation) {
    const mine = history
    if (mine && conversation.userId === mine.userId) void whileCurrent(mine, () => mine.saveConversation(conversation))
  }

  function forgetConversation(id: string) {
    const mine = history
    if (mine) void whileCurrent(mine, () => mine.forgetConversation(id))
  }

  /** Messages shown for a conversation (after an answer, or an older page): merged into the saved copy. */
  function saveMessages(id: string, messages: ApiMessage[], total: number) {
    const mine = history
    if (mine) void whileCurrent(mine, () => mine.saveMessages(id, { total, data: messages }))
  }

  /**
   * Any other record the user has seen (a message thread, a report), kept under `[userId, ...key]`: the server's
   * answer, or the saved copy when there is no answer at all. Wiped with the rest of the user's data.
   */
  function cachedRecord<T>(key: [kind: string, ...rest: string[]], network: () => Promise<T>): Promise<T> {
    const mine = history
    if (!mine) return network()
    return networkFirst<T>(network, value => whileCurrent(mine, () => offlineDb.set([mine.userId, ...key], value)), () => offlineDb.get<T>([mine.userId, ...key]))
  }

  /** Changes (or, with `undefined`, drops) a saved record, e.g. after a reply or a delete. */
  function updateRecord<T>(key: [kind: string, ...rest: string[]], change: (old: T | undefined) => T | undefined) {
    const mine = history
    if (mine) void whileCurrent(mine, () => offlineDb.update<T>([mine.userId, ...key], change))
  }

  let probe: ReturnType<typeof setInterval> | undefined
  // while the server is unreachable, look now and then, so the banner and the outbox notice when it is back
  function markUnreachable() {
    serverUnreachable.value = true
    if (probe || !import.meta.client) return
    probe = setInterval(async () => {
      if (!online.value) return
      try {
        const res = await fetch('/api/health', { cache: 'no-store' })
        if (res.ok) markReachable()
      }
      catch {}
    }, PROBE_MS)
  }

  function markReachable() {
    serverUnreachable.value = false
    clearInterval(probe)
    probe = undefined
  }

  async function setBudget(max: number) {
    budget.value = Math.max(1, Math.min(10_000, Math.round(max)))
    const mine = history
    await quietly(async () => {
      await offlineDb.set([DEVICE, 'budget'], budget.value)
      await mine?.enforceBudget()
    })
  }

  const stats = async (): Promise<OfflineHistoryStats> =>
    (history && await quietly(() => history!.stats())) ?? { conversations: 0, messages: 0, bytes: 0 }

  /** "Clear offline data": the saved history goes; the user stays signed in and unsent messages stay. */
  async function clearHistory() {
    const mine = history
    await quietly(async () => mine?.clear())
    await clearRuntimeCaches()
  }

  return {
    userId: readonly(userId), offline, serverUnreachable: readonly(serverUnreachable), budget: readonly(budget),
    signedIn, signedOut, cachedUser, userWithoutServer, conversationPage, cachedRecord, updateRecord, openConversation, saveConversation, forgetConversation, saveMessages,
    markUnreachable, markReachable, setBudget, stats, clearHistory,
  }
})

/**
 * Cache Storage holds only the precached app shell (no user data: the service worker never caches /api/).
 * Anything else found there was not put there by this app's rules, so it goes with the user.
 */
async function clearRuntimeCaches() {
  if (typeof caches === 'undefined') return
  try {
    const names = await caches.keys()
    await Promise.all(names.filter(name => !name.startsWith('workbox-precache')).map(name => caches.delete(name)))
  }
  catch {}
}
