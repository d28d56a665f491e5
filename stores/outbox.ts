import { sealedJournal } from '~/utils/sealed-journal'
import { createOutbox, newOutboxItem, type Outbox, type OutboxInput, type OutboxItem, type OutboxKind, outboxKind } from '~/utils/idb-outbox'

const RETRY_MS = 30_000

let threads = 0
const newThread = () => `new-${Date.now().toString(36)}-${++threads}`

/**
 * Typed messages not yet confirmed written to IndexedDB (utils/sealed-journal.ts), sealed with the offline cache's
 * data key: a typed message is in localStorage before Enter returns, and no typed text is stored in the clear.
 */
const journal = sealedJournal<OutboxItem>('outbox')

/**
 * Messages typed while the server cannot be reached. Each is written to IndexedDB at once (so a reload loses
 * nothing) and sent, oldest first, through the chat store when the server is back: the answer streams as usual.
 * Until then the user can cancel any of them.
 */
export const useOutboxStore = defineStore('outbox', () => {
  const offline = useOfflineStore()
  const items = ref<OutboxItem[]>([])
  /** The item being sent now. */
  const sending = ref<string | null>(null)
  /** Messages typed into the new-conversation screen share a thread until that conversation exists. */
  const thread = ref(newThread())
  /**
   * Counts the times the saved messages were read back from the device (the cache opened after a reload or at sign-in):
   * the pages that send them watch it, since what waits there is only known after they mounted.
   */
  const restored = ref(0)
  let outbox: Outbox | null = null
  let flushing = false
  let retryTimer: ReturnType<typeof setTimeout> | undefined

  const persist = (work: (box: Outbox) => Promise<void>) => {
    const box = outbox
    if (box) void work(box).catch(() => {})
  }

  watch(() => offline.userId, (id, previous) => {
    items.value = []
    // someone signed in, out, or another user took over (not the moment before the user is known: their journal stays)
    if (import.meta.client && (id || previous)) journal.clearOthers(id)
  }, { immediate: true, flush: 'sync' }) // sync: after a sign-out not one write may land in the leaving user's outbox

  // the outbox lives in the encrypted cache: usable once it is open (online with the session, or with the PIN)
  watch(() => offline.unlocked, async (open) => {
    outbox = open && open.userId === offline.userId ? createOutbox(open.db, open.userId) : null
    const box = outbox
    if (!box || !open) return
    const id = open.userId
    const saved = await box.list().catch(() => [] as OutboxItem[])
    const journaled = (await journal.read(open)).map(entry => entry.value)
    if (box !== outbox) return
    // what a reload cut off before it reached IndexedDB is in the journal, what was typed before the cache opened
    // only on screen: write both now
    const unsaved = [...journaled, ...items.value].filter((i, n, all) => !saved.some(s => s.id === i.id) && all.findIndex(o => o.id === i.id) === n)
    for (const item of unsaved) void box.put(item).then(() => journal.remove(id, item.id), () => {})
    items.value = [...saved, ...unsaved].sort((a, b) => a.id.localeCompare(b.id))
    if (items.value.length) restored.value++
  }, { immediate: true, flush: 'sync' })

  /** Keeps a message for later: it shows at once, survives a reload from now on, and is in IndexedDB a moment after. */
  function enqueue(input: Omit<OutboxInput, 'thread'>) {
    const item = newOutboxItem(input.conversationId || outboxKind(input) !== 'chat' ? input : { ...input, thread: thread.value })
    items.value = [...items.value, item]
    const id = offline.userId
    const open = offline.unlocked
    if (id && outbox && open?.userId === id) {
      journal.put(open, item.id, item)
      persist(box => box.put(item).then(() => journal.remove(id, item.id)))
    }
    return item
  }

  /** Drops a message from the outbox, on the screen and on the device. */
  function forget(itemId: string) {
    items.value = items.value.filter(i => i.id !== itemId)
    if (offline.userId) journal.remove(offline.userId, itemId)
    persist(box => box.remove(itemId))
  }

  function cancel(id: string) {
    if (sending.value === id) return false
    forget(id)
    return true
  }

  /** The waiting messages of a conversation (or of the new conversation being written). */
  const pendingFor = (conversationId: string | null) =>
    items.value.filter(i => outboxKind(i) === 'chat' && (conversationId ? i.conversationId === conversationId : i.conversationId === null && i.thread === thread.value))

  /**
   * The new conversations typed offline and not yet sent, one per thread (its first message and how many wait), in
   * typing order: the sidebar lists them, so one typed before a reload, or before "Nueva conversación", stays in reach.
   */
  const unsentThreads = computed(() => {
    const threads = new Map<string, { thread: string, first: OutboxItem, count: number, failed: boolean }>()
    for (const item of items.value) {
      if (outboxKind(item) !== 'chat' || item.conversationId !== null || !item.thread) continue
      const known = threads.get(item.thread)
      if (known) { known.count++; known.failed ||= !!item.failed }
      else threads.set(item.thread, { thread: item.thread, first: item, count: 1, failed: !!item.failed })
    }
    return [...threads.values()]
  })
  /** The conversations with messages waiting to be sent. */
  const pendingConversations = computed(() => new Set(items.value.flatMap(i => (outboxKind(i) === 'chat' && i.conversationId ? [i.conversationId] : []))))

  /** The new-conversation screen shows (and adds to) `id`'s waiting messages. */
  function openThread(id: string) { thread.value = id }
  /** "Nueva conversación": messages typed next start a conversation of their own, apart from those already waiting. */
  function startThread() {
    if (items.value.some(i => i.conversationId === null && i.thread === thread.value)) thread.value = newThread()
  }

  /** The waiting messages to people, or reports, in typing order. */
  const pendingOf = (kind: Exclude<OutboxKind, 'chat'>) => items.value.filter(i => outboxKind(i) === kind)

  function update(item: OutboxItem) {
    items.value = items.value.map(i => (i.id === item.id ? item : i))
    persist(box => box.put(item))
  }

  /**
   * Sends one chat message through the chat store, which opens its conversation and streams the answer as for a
   * message typed online, and tells whether the server kept it.
   */
  async function deliver(item: OutboxItem): Promise<boolean> {
    if (outboxKind(item) !== 'chat') return deliverDirect(item)
    sending.value = item.id
    try {
      const outcome = await useChatStore().sendQueued(item)
      if (outcome.kept) {
        forget(item.id)
        // the other messages typed into the same new conversation follow the first one there
        if (!item.conversationId && item.thread && outcome.conversationId) {
          for (const next of items.value.filter(i => i.conversationId === null && i.thread === item.thread))
            update({ ...next, conversationId: outcome.conversationId, thread: undefined })
          if (thread.value === item.thread) thread.value = newThread()
        }
        return true
      }
      if (outcome.failed) update({ ...item, failed: outcome.failed })
      return false
    }
    finally {
      sending.value = null
    }
  }

  /**
   * Sends a message to a person or a report with one request (no page to open, no answer to stream). A request
   * that got no answer leaves it waiting; an answer that refuses it (400, 404) marks it failed, shown with the item.
   */
  async function deliverDirect(item: OutboxItem): Promise<boolean> {
    sending.value = item.id
    try {
      for (let attempt = 0; attempt < 3; attempt++) {
        try {
          if (outboxKind(item) === 'dm') await useMessagesStore().send({ recipientId: item.recipientId!, content: item.message, parentId: item.parentId, clientId: item.clientId })
          else await useReportsStore().create({ title: item.title ?? '', content: item.message, clientId: item.clientId })
          forget(item.id)
          return true
        }
        catch (error) {
          if (!isApiError(error) || error.statusCode === 0) return false
          if (error.statusCode !== 429) {
            update({ ...item, failed: error.statusCode === 404 ? 'not-found' : error.message })
            return false
          }
          await new Promise(resolve => setTimeout(resolve, Math.min(error.retryAfter ?? 1, 10) * 1000))
        }
      }
      return false
    }
    finally {
      sending.value = null
    }
  }

  /**
   * Sends every waiting message (of `kinds`, or all), oldest first; stops at the first that does not get through
   * and tries later. A page that is not the chat passes its own kinds, so sending never navigates away from it.
   */
  async function flush(kinds?: OutboxKind[]) {
    if (flushing || offline.offline || !items.value.length) return
    flushing = true
    clearTimeout(retryTimer)
    const wanted = (i: OutboxItem) => i.failed !== 'not-found' && (!kinds || kinds.includes(outboxKind(i)))
    try {
      while (items.value.length && !offline.offline) {
        const next = items.value.find(wanted)
        if (!next || !(await deliver(next))) break
      }
    }
    finally {
      flushing = false
    }
    if (items.value.some(wanted)) retryTimer = setTimeout(() => { void flush(kinds) }, RETRY_MS)
  }

  return {
    items, sending, restored: readonly(restored), thread: readonly(thread), unsentThreads, pendingConversations,
    enqueue, cancel, pendingFor, pendingOf, openThread, startThread, flush,
  }
})
