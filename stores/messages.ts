import type { ApiDirectoryEntry, ApiDm, ApiPersonRef } from '#shared/messaging'
import type { ApiList } from '#shared/types'

const LIST_SIZE = 100
const UNDO_MS = 6000

/** The thread list's filters: the API's boxes plus "unread only". */
export type DmFilter = 'all' | 'received' | 'sent' | 'unread'

/** One line of the thread list: a thread's newest message and who the other person is. */
export interface DmThread {
  threadId: string
  other: ApiPersonRef
  last: ApiDm
  /** Messages in the thread addressed to me and not read yet. */
  unread: number
}

/** An opened thread as it is saved for offline reading. */
interface SavedThread { other: ApiPersonRef, messages: ApiDm[] }

/** `GET /api/messages` answers a cursor too (docs/api.md). */
type DmPage = ApiList<ApiDm> & { nextCursor?: string | null }

const listQuery = (f: DmFilter) => (f === 'unread' ? { box: 'received', unread: true } : { box: f })

/** One message from two copies of it: the read state and the latest edit of either (neither goes back). */
function newest(known: ApiDm, incoming: ApiDm): ApiDm {
  const edit = (incoming.editedAt ?? '') >= (known.editedAt ?? '') ? incoming : known
  const read = known.read && !incoming.read ? known : incoming
  return { ...incoming, content: edit.content, editedAt: edit.editedAt, read: read.read, readAt: read.readAt }
}

const byNewest = (a: ApiDm, b: ApiDm) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id)

/**
 * Messages between people: the unread count (kept live by useLiveEvents), the thread list (grouped from the newest
 * messages of the current filter), the open thread, and sending, editing, reading and deleting. Delete waits a
 * few seconds so it can be undone. Lists and opened threads are saved for offline reading.
 */
export const useMessagesStore = defineStore('messages', () => {
  const api = useApi()
  const auth = useAuthStore()
  const offline = useOfflineStore()

  const unreadCount = ref(0)
  const filter = ref<DmFilter>('all')
  const items = ref<ApiDm[]>([])
  const loading = ref(false)
  const loaded = ref(false)
  const failed = ref(false)
  /** Cursor of the next (older) page of the list; null when the oldest message is loaded. */
  const nextCursor = ref<string | null>(null)
  const loadingMore = ref(false)
  const moreFailed = ref(false)

  const threadId = ref<string | null>(null)
  const threadOther = ref<ApiPersonRef | null>(null)
  const thread = ref<ApiDm[]>([])
  const threadLoading = ref(false)
  const threadMissing = ref(false)
  const threadFailed = ref(false)

  const pendingDelete = ref<ApiDm | null>(null)
  let deleteTimer: ReturnType<typeof setTimeout> | undefined
  let listRun = 0
  let threadRun = 0

  const me = () => auth.user?.id ?? null
  const otherOf = (dm: ApiDm): ApiPersonRef => (dm.senderId === me() ? dm.recipient : dm.sender)
  const isUnreadForMe = (dm: ApiDm) => dm.recipientId === me() && !dm.read

  /** Newest activity first; a thread is unread while it holds an unread message to me. */
  const threads = computed<DmThread[]>(() => {
    const byThread = new Map<string, DmThread>()
    for (const dm of [...items.value].sort(byNewest)) {
      if (dm.id === pendingDelete.value?.id) continue
      const known = byThread.get(dm.threadId)
      if (known) { if (isUnreadForMe(dm)) known.unread++; continue }
      byThread.set(dm.threadId, { threadId: dm.threadId, other: otherOf(dm), last: dm, unread: isUnreadForMe(dm) ? 1 : 0 })
    }
    return [...byThread.values()]
  })

  const visibleThread = computed(() => thread.value.filter(dm => dm.id !== pendingDelete.value?.id))

  function matchesFilter(dm: ApiDm) {
    if (filter.value === 'received') return dm.recipientId === me()
    if (filter.value === 'sent') return dm.senderId === me()
    if (filter.value === 'unread') return isUnreadForMe(dm)
    return true
  }

  async function refreshUnread() {
    try { unreadCount.value = (await api<{ count: number }>('/api/messages/unread-count')).count }
    catch {}
  }

  /** The newest messages of the filter (or `next`, which becomes the filter), grouped into threads. */
  async function load(next: DmFilter = filter.value) {
    filter.value = next
    const run = ++listRun
    loading.value = true
    failed.value = false
    moreFailed.value = false
    try {
      const page = await offline.cachedRecord(['dms', 'list', next], () =>
        api<DmPage>('/api/messages', { query: { ...listQuery(next), limit: LIST_SIZE } }))
      if (run !== listRun) return
      items.value = page.data
      // a page saved before the cursor existed: "load more" stays available through the last message's id
      nextCursor.value = page.nextCursor !== undefined ? page.nextCursor : page.data.length === LIST_SIZE ? page.data.at(-1)!.id : null
      loaded.value = true
    }
    catch {
      if (run === listRun) failed.value = true
    }
    finally {
      if (run === listRun) loading.value = false
    }
  }

  /** The next (older) page of the current filter, added below what is shown ("cargar más"). */
  async function loadMore() {
    const before = nextCursor.value
    if (!before || loadingMore.value) return
    const run = listRun
    loadingMore.value = true
    moreFailed.value = false
    try {
      const page = await api<DmPage>('/api/messages', { query: { ...listQuery(filter.value), before, limit: LIST_SIZE } })
      if (run !== listRun) return
      const known = new Set(items.value.map(m => m.id))
      items.value = [...items.value, ...page.data.filter(m => !known.has(m.id))]
      nextCursor.value = page.nextCursor ?? null
    }
    catch {
      if (run === listRun) moreFailed.value = true
    }
    finally {
      if (run === listRun) loadingMore.value = false
    }
  }

  function saveThread() {
    const id = threadId.value
    if (id && threadOther.value) offline.updateRecord<SavedThread>(['dms', 'thread', id], () => ({ other: threadOther.value!, messages: thread.value }))
  }

  /** Finds the other person of a thread: from the list shown, else my newest messages, else its first message. */
  async function participantOf(id: string): Promise<ApiPersonRef> {
    const listed = items.value.find(dm => dm.threadId === id)
    if (listed) return otherOf(listed)
    // the first message may be deleted from my view while the rest of the thread is not
    const recent = await api<ApiList<ApiDm>>('/api/messages', { query: { limit: LIST_SIZE } })
    const found = recent.data.find(dm => dm.threadId === id)
    return otherOf(found ?? await api<ApiDm>(`/api/messages/${id}`))
  }

  /** Opens a thread: every message of it the caller can still see, oldest first; the unread ones are marked read. */
  async function openThread(id: string | null) {
    const run = ++threadRun
    threadId.value = id
    thread.value = []
    threadOther.value = null
    threadMissing.value = false
    threadFailed.value = false
    if (!id) return
    threadLoading.value = true
    try {
      const saved = await offline.cachedRecord<SavedThread>(['dms', 'thread', id], async () => {
        const other = await participantOf(id)
        const page = await api<ApiList<ApiDm>>('/api/messages', { query: { with: other.id ?? undefined, limit: LIST_SIZE } })
        return { other, messages: page.data.filter(dm => dm.threadId === id).sort((a, b) => -byNewest(a, b)) }
      })
      if (run !== threadRun) return
      threadOther.value = saved.other
      thread.value = saved.messages
      threadMissing.value = !saved.messages.length
      void markThreadRead()
    }
    catch (error) {
      if (run !== threadRun) return
      if (isApiError(error) && (error.statusCode === 404 || error.statusCode === 400)) threadMissing.value = true
      else threadFailed.value = true
    }
    finally {
      if (run === threadRun) threadLoading.value = false
    }
  }

  function replaceLocal(dm: ApiDm) {
    items.value = items.value.map(m => (m.id === dm.id ? dm : m))
    thread.value = thread.value.map(m => (m.id === dm.id ? dm : m))
  }

  /** Marks the open thread's unread messages to me as read (they are on screen). */
  async function markThreadRead() {
    if (offline.offline) return
    const unread = thread.value.filter(isUnreadForMe)
    for (const dm of unread) {
      try { replaceLocal(await api<ApiDm>(`/api/messages/${dm.id}/read`, { method: 'PUT' })) }
      catch {}
    }
    if (unread.length) { saveThread(); void refreshUnread() }
  }

  async function markAllRead() {
    await api<{ updated: number }>('/api/messages/read-all', { method: 'PUT' })
    const now = new Date().toISOString()
    const mark = (dm: ApiDm) => (isUnreadForMe(dm) ? { ...dm, read: true, readAt: now } : dm)
    items.value = filter.value === 'unread' ? [] : items.value.map(mark)
    thread.value = thread.value.map(mark)
    unreadCount.value = 0
  }

  /** A message that is now on the server: in the list (when the filter shows it) and in the open thread. */
  function place(dm: ApiDm) {
    if (matchesFilter(dm)) items.value = [dm, ...items.value.filter(m => m.id !== dm.id)]
    if (dm.threadId === threadId.value && !thread.value.some(m => m.id === dm.id)) {
      thread.value = [...thread.value, dm]
      saveThread()
    }
  }

  /** Sends a message (a reply when `parentId` is given); throws ApiRequestError (0 = no network). */
  async function send(input: { recipientId: string, content: string, parentId?: string, clientId?: string }) {
    const dm = await api<ApiDm>('/api/messages', { method: 'POST', body: { ...input } })
    place(dm)
    return dm
  }

  /**
   * "Nuevo mensaje" to a person: it goes on in the latest thread with them, as a reply to its newest message the
   * caller still sees, so one person is one row in the list (each new message began a thread of its own); a new
   * thread only when there is none.
   */
  async function sendTo(recipientId: string, content: string) {
    const latest = await api<ApiList<ApiDm>>('/api/messages', { query: { with: recipientId, limit: 1 } })
    return send({ recipientId, content, parentId: latest.data[0]?.id })
  }

  // how many Mensajes pages are mounted (a page being replaced and its successor overlap for a moment): the last
  // thread opened stays in the store after the user left for the chat, and a reply arriving then is not seen
  let screens = 0
  /** The Mensajes page is on screen until the returned function is called. */
  function onScreen() {
    screens++
    let released = false
    return () => {
      if (!released) screens--
      released = true
    }
  }

  /** A message to me arrived on the live stream: read at once only when its thread is on screen. */
  function receive(dm: ApiDm) {
    place(dm)
    if (screens > 0 && dm.threadId === threadId.value && typeof document !== 'undefined' && document.visibilityState === 'visible') void markThreadRead()
  }

  async function edit(id: string, content: string) {
    const dm = await api<ApiDm>(`/api/messages/${id}`, { method: 'PUT', body: { content } })
    replaceLocal(dm)
    saveThread()
    return dm
  }

  /**
   * A change arrived on the live stream: an edit (the other person's, or mine from another tab) or the recipient
   * reading my message ("Leído"). Events of two changes may cross: what only moves forward (read, the latest
   * edit) is kept from whichever copy has it.
   */
  function applyUpdate(dm: ApiDm) {
    const known = thread.value.find(m => m.id === dm.id) ?? items.value.find(m => m.id === dm.id)
    if (!known) return
    replaceLocal(newest(known, dm))
    if (dm.threadId === threadId.value) saveThread()
  }

  /** I deleted a message in another tab: it goes from this one too. */
  function applyDelete(id: string) {
    if (pendingDelete.value?.id === id) { clearTimeout(deleteTimer); pendingDelete.value = null }
    const inThread = thread.value.some(m => m.id === id)
    items.value = items.value.filter(m => m.id !== id)
    thread.value = thread.value.filter(m => m.id !== id)
    if (inThread) saveThread()
  }

  async function commitDelete() {
    clearTimeout(deleteTimer)
    const dm = pendingDelete.value
    pendingDelete.value = null
    if (!dm) return
    try { await api(`/api/messages/${dm.id}`, { method: 'DELETE' }) }
    catch (error) {
      // already gone is fine; anything else: it stays, so nothing disappears silently
      if (!isApiError(error) || error.statusCode !== 404) throw error
    }
    items.value = items.value.filter(m => m.id !== dm.id)
    thread.value = thread.value.filter(m => m.id !== dm.id)
    saveThread()
  }

  /** Hides a message from my view now and deletes it on the server after the undo window. */
  async function remove(id: string) {
    await commitDelete().catch(() => {})
    const dm = thread.value.find(m => m.id === id) ?? items.value.find(m => m.id === id)
    if (!dm) return
    pendingDelete.value = dm
    deleteTimer = setTimeout(() => { commitDelete().catch(() => {}) }, UNDO_MS)
  }

  function undoDelete() {
    clearTimeout(deleteTimer)
    pendingDelete.value = null
  }

  /** Active people the user may write to (name or email search). */
  async function searchDirectory(q: string, limit = 20) {
    const page = await api<ApiList<ApiDirectoryEntry>>('/api/directory', { query: { q: q.trim() || undefined, limit } })
    return page.data
  }

  function $reset() {
    clearTimeout(deleteTimer)
    listRun++
    threadRun++
    unreadCount.value = 0
    filter.value = 'all'
    items.value = []
    loading.value = false
    loaded.value = false
    failed.value = false
    nextCursor.value = null
    loadingMore.value = false
    moreFailed.value = false
    threadId.value = null
    threadOther.value = null
    thread.value = []
    threadLoading.value = false
    threadMissing.value = false
    threadFailed.value = false
    pendingDelete.value = null
  }
  auth.onSignOut(() => $reset())

  return {
    unreadCount, filter, items, loading, loaded, failed, threads, nextCursor, loadingMore, moreFailed, loadMore,
    threadId, threadOther, thread: visibleThread, threadLoading, threadMissing, threadFailed, pendingDelete,
    refreshUnread, load, openThread, markThreadRead, markAllRead, send, sendTo, receive, onScreen, applyUpdate, applyDelete, edit, remove, undoDelete, commitDelete, searchDirectory, $reset,
  }
})
