import type { ApiConversation } from '#shared/types'

const PAGE_SIZE = 50
const UNDO_MS = 6000

interface ConversationPage { total: number, data: ApiConversation[] }

/** Pinned first, then most recently updated: the order of GET /api/conversations. */
export function compareConversations(a: ApiConversation, b: ApiConversation) {
  if (a.pinned !== b.pinned) return a.pinned ? -1 : 1
  return b.updatedAt.localeCompare(a.updatedAt)
}

/**
 * The signed-in user's conversation list for the sidebar: loaded a page at a time (it can hold thousands),
 * searched on the server, kept in server order as conversations change. Delete waits a few seconds so it can be undone.
 */
export const useConversationsStore = defineStore('conversations', () => {
  const api = useApi()
  const offline = useOfflineStore()
  const items = ref<ApiConversation[]>([])
  const total = ref(0)
  const query = ref('')
  const loading = ref(false)
  const loaded = ref(false)
  const failed = ref(false)
  /** A deleted conversation that can still be restored. */
  // `wasOpen`: it was the conversation on screen, so an undo opens it again
  const pendingDelete = ref<{ conversation: ApiConversation, index: number, wasOpen: boolean } | null>(null)
  let deleteTimer: ReturnType<typeof setTimeout> | undefined
  let generation = 0

  const hasMore = computed(() => items.value.length < total.value)

  // pages are saved on the device as they arrive; without a network the saved list answers (searched locally)
  async function fetchPage(offset: number) {
    const q = query.value.trim()
    return offline.conversationPage({ offset, limit: PAGE_SIZE, q }, () =>
      api<ConversationPage>('/api/conversations', { query: { limit: PAGE_SIZE, offset, q: q || undefined } }))
  }

  /** The first page for the current search (or `q`, which becomes the search). */
  async function load(q = query.value) {
    query.value = q
    const run = ++generation
    loading.value = true
    failed.value = false
    try {
      const page = await fetchPage(0)
      if (run !== generation) return
      items.value = page.data
      total.value = page.total
      loaded.value = true
    }
    catch {
      if (run === generation) failed.value = true
    }
    finally {
      if (run === generation) loading.value = false
    }
  }

  /** The next page; the local list mirrors the server's order, so its length is the offset (ids de-duplicate any drift). */
  async function loadMore() {
    if (loading.value || !hasMore.value) return
    const run = ++generation
    loading.value = true
    try {
      const page = await fetchPage(items.value.length)
      if (run !== generation) return
      const known = new Set(items.value.map(c => c.id))
      items.value = [...items.value, ...page.data.filter(c => !known.has(c.id))]
      total.value = page.data.length ? page.total : items.value.length
    }
    catch {
      if (run === generation) failed.value = true
    }
    finally {
      if (run === generation) loading.value = false
    }
  }

  const find = (id: string) => items.value.find(c => c.id === id)

  /** Puts a new or changed conversation where the server would list it. */
  function upsert(conversation: ApiConversation) {
    offline.saveConversation(conversation)
    const rest = items.value.filter(c => c.id !== conversation.id)
    const moreOnServer = hasMore.value
    if (rest.length === items.value.length) total.value++
    const at = rest.findIndex(c => compareConversations(conversation, c) < 0)
    // past the loaded pages: the server will list it when the user scrolls there
    if (at === -1 && moreOnServer) { items.value = rest; return }
    rest.splice(at === -1 ? rest.length : at, 0, conversation)
    items.value = rest
  }

  function patchLocal(id: string, change: Partial<ApiConversation>) {
    const current = find(id)
    if (current) upsert({ ...current, ...change })
  }

  async function update(id: string, change: { title?: string, pinned?: boolean, archived?: boolean }) {
    const conversation = await api<ApiConversation>(`/api/conversations/${id}`, { method: 'PATCH', body: change })
    upsert(conversation)
    return conversation
  }

  const rename = (id: string, title: string) => update(id, { title })
  const setPinned = (id: string, pinned: boolean) => update(id, { pinned })
  const setArchived = (id: string, archived: boolean) => update(id, { archived })

  async function commitDelete() {
    clearTimeout(deleteTimer)
    const pending = pendingDelete.value
    pendingDelete.value = null
    if (!pending) return
    offline.forgetConversation(pending.conversation.id)
    try { await api(`/api/conversations/${pending.conversation.id}`, { method: 'DELETE' }) }
    catch (error) {
      // already gone is fine; anything else: put it back so nothing disappears silently
      if (!isApiError(error) || error.statusCode !== 404) { upsert(pending.conversation); throw error }
    }
  }

  /** Hides the conversation now and deletes it on the server after the undo window (or when another delete starts). */
  async function remove(id: string, wasOpen = false) {
    const index = items.value.findIndex(c => c.id === id)
    if (index === -1) return
    await commitDelete().catch(() => {})
    pendingDelete.value = { conversation: items.value[index]!, index, wasOpen }
    items.value = items.value.filter(c => c.id !== id)
    total.value--
    deleteTimer = setTimeout(() => { commitDelete().catch(() => {}) }, UNDO_MS)
  }

  function undoDelete() {
    clearTimeout(deleteTimer)
    const pending = pendingDelete.value
    pendingDelete.value = null
    if (pending) upsert(pending.conversation)
  }

  /** Sends a pending delete without waiting (the page is going away). */
  function flushDelete() {
    const pending = pendingDelete.value
    if (!pending) return
    clearTimeout(deleteTimer)
    pendingDelete.value = null
    api<void>(`/api/conversations/${pending.conversation.id}`, { method: 'DELETE', keepalive: true }).catch(() => {})
  }

  function $reset() {
    clearTimeout(deleteTimer)
    generation++
    items.value = []
    total.value = 0
    query.value = ''
    loaded.value = false
    loading.value = false
    failed.value = false
    pendingDelete.value = null
  }

  return { items, total, query, loading, loaded, failed, hasMore, pendingDelete, load, loadMore, find, upsert, patchLocal, rename, setPinned, setArchived, remove, undoDelete, commitDelete, flushDelete, $reset }
})
