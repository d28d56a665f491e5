import type { ApiConversation, ApiList, ApiMessage, ApiUser } from '#shared/types'
import { DEFAULT_OFFLINE_CONVERSATIONS, isValidPin, OFFLINE_DB_NAME, type OfflineKeyAnswer } from '#shared/offline'
import type { OfflineKey, OfflineKeyValue } from '~/utils/idb'
import type { ConversationPageRequest, OfflineHistory, OfflineHistoryStats } from '~/utils/idb-history'
import type { DataKey, Vault } from '~/utils/offline-crypto'
import { type SealingCache, sealedJournal } from '~/utils/sealed-journal'

const DEVICE = 'device'
const PROBE_MS = 15_000
const VAULT_KEY: OfflineKey = [DEVICE, 'vault']
const USER_KEY: OfflineKey = [DEVICE, 'user']
const DEVICE_ID_KEY: OfflineKey = [DEVICE, 'id']

/**
 * IndexedDB and the cache's crypto (idb-keyval, @noble/ciphers), loaded on first use (after the session check):
 * the auth store needs this store at start-up, and none of this is needed to paint the first page.
 * Read as `lib.name`, never destructured: Nuxt's auto-import would take a bare util name as a static import.
 */
async function importStorage() {
  const [idb, history, sealed, crypto] = await Promise.all([import('~/utils/idb'), import('~/utils/idb-history'), import('~/utils/idb-sealed'), import('~/utils/offline-crypto')])
  return { ...idb, ...history, ...sealed, ...crypto }
}
type Storage = Awaited<ReturnType<typeof importStorage>>
let loadingStorage: Promise<Storage> | null = null
// a failed load (a chunk missing mid-deploy, a dropped connection) is not remembered: the next use tries again
const storage = () => (loadingStorage ??= importStorage().catch((error: unknown) => {
  loadingStorage = null
  throw error
}))

/** The cache open for one user (see the store's `unlocked`). */
export type UnlockedCache = SealingCache & {
  db: OfflineKeyValue
  dataKey: DataKey
}

/** A conversation and the newest page of its messages, as the chat store opens it. */
type OpenedConversation = [ApiConversation, ApiList<ApiMessage>]

const isNetworkError = (error: unknown) => isApiError(error) && error.statusCode === 0

/**
 * Saves after an answer not yet confirmed written to IndexedDB, per user, in localStorage and sealed with the
 * data key (synchronously, so it is done before a navigation or reload can cut it off). Replayed when the cache
 * next opens, emptied as the writes land, wiped with the rest of the user's data.
 */
type PendingSave = { id: string, kind: 'messages', conversationId: string, total: number, data: ApiMessage[] } | { id: string, kind: 'conversation', conversation: ApiConversation }
const savesJournal = sealedJournal<PendingSave>('saves')
let saves = 0

/**
 * Whether this device's offline storage is known empty: 'clean' once a signed-out wipe finished (or a first visit
 * found no database), replaced by a fresh mark whenever someone signs in (in any tab). A signed-out visit to a clean
 * device then loads no IndexedDB or crypto code at start-up; a device holding data is wiped as before.
 */
const CLEAN_KEY = 'energyapp:offline-clean'
const deviceMark = {
  read() { try { return localStorage.getItem(CLEAN_KEY) } catch { return null } },
  set(value: string) { try { localStorage.setItem(CLEAN_KEY, value) } catch {} },
}
/**
 * Five wrong PINs wipe the device offline, where the session cannot be ended: it is ended the next time the server
 * answers (a device in someone else's hands must not walk back in once online). The user id of that session.
 */
const SIGN_OUT_OWED_KEY = 'energyapp:sign-out-owed'
export const owedSignOut = {
  read() { try { return localStorage.getItem(SIGN_OUT_OWED_KEY) } catch { return null } },
  set(userId: string) { try { localStorage.setItem(SIGN_OUT_OWED_KEY, userId) } catch {} },
  clear() { try { localStorage.removeItem(SIGN_OUT_OWED_KEY) } catch {} },
}
/** True when the browser can tell that the offline database was never created here (a first visit). */
async function noOfflineDatabase() {
  try { return typeof indexedDB.databases === 'function' && !(await indexedDB.databases()).some(db => db.name === OFFLINE_DB_NAME) }
  catch { return false }
}

/** The cache of the signed-in user, once its data key is known. */
interface Session {
  userId: string
  /** Resolves once the cache is open (null: it could not be opened, the app works from the network only). */
  history: Promise<OfflineHistory | null>
}

/** What the device knows about its locked cache, before the data key is known. */
export interface DeviceVaultState { userId: string, pin: boolean, failures: number }
export type PinUnlock = { status: 'ok', user: ApiUser } | { status: 'wrong', left: number } | { status: 'wiped' } | { status: 'none' }

export const useOfflineStore = defineStore('offline', () => {
  const api = useApi()
  const online = useOnline()
  const userId = ref<string | null>(null)
  /** A request failed without an answer while the browser believed it was online (server down, captive wifi). */
  const serverUnreachable = ref(false)
  const offline = computed(() => !online.value || serverUnreachable.value)
  /** Conversations this device keeps (newest first); the rest are evicted. */
  const budget = ref(DEFAULT_OFFLINE_CONVERSATIONS)
  /**
   * The open cache: the encrypted store, its data key, and sealing with that key (for the journals, which then need
   * no crypto code of their own before the cache opens); null while locked or signed out.
   */
  const unlocked = shallowRef<UnlockedCache | null>(null)
  /** Whether a PIN can open this device's cache without the server (and, locked, whose cache it is). */
  const vaultState = ref<DeviceVaultState | null>(null)
  const pinSet = computed(() => !!vaultState.value?.pin)
  /** The last PIN attempt on this page was the fifth wrong one: the cache is gone (the login page says so). */
  const pinWiped = ref(false)
  /** Conversations whose messages this device holds (readable offline). */
  const savedIds = ref<ReadonlySet<string>>(new Set())
  let session: Session | null = null
  /** Conversations this page saved (a new one, an answer), with when: a list page asked for before then must not drop them. */
  const savedHere = new Map<string, number>()

  const supported = () => import.meta.client && typeof indexedDB !== 'undefined' && !!globalThis.crypto?.subtle

  async function quietly<T>(work: () => Promise<T>): Promise<T | undefined> {
    if (!supported()) return undefined
    try { return await work() }
    catch { return undefined }
  }

  /** Runs a write for `mine` only while it is still the signed-in user's (a late answer must not refill a wiped device). */
  const whileCurrent = (mine: Session, work: (history: OfflineHistory) => Promise<unknown>) => quietly(async () => {
    const history = await mine.history
    if (history && session === mine) await work(history)
  })

  async function refreshSaved(history: OfflineHistory) {
    const ids = await history.savedIds()
    if (history === await session?.history) savedIds.value = ids
  }

  async function deviceId() {
    const lib = await storage()
    const known = await lib.offlineDb.get<string>(DEVICE_ID_KEY)
    if (known) return known
    const id = crypto.randomUUID().replace(/-/g, '')
    await lib.offlineDb.set(DEVICE_ID_KEY, id)
    return id
  }

  /** Everything of every user leaves the device (a new vault, 5 wrong PINs, a sign-out). The device id stays. */
  async function wipeDevice() {
    const lib = await storage()
    for (const owner of await lib.offlineDb.owners()) if (owner !== DEVICE) await lib.offlineDb.clear([owner])
    await lib.offlineDb.delMany([VAULT_KEY, USER_KEY])
    savesJournal.clearOthers(null)
    vaultState.value = null
  }

  /** The cache is open for `user` with `dataKey`: what it needs from here on, and what a cut-off page left in the journal. */
  async function opened(user: ApiUser, vault: Vault, dataKey: DataKey) {
    const lib = await storage()
    const db = lib.createSealedStore(lib.offlineDb, dataKey)
    await db.set(USER_KEY, user)
    const saved = await lib.offlineDb.get<number>([DEVICE, 'budget'])
    if (saved) budget.value = saved
    const history = lib.createOfflineHistory(db, user.id, () => budget.value)
    const cache: UnlockedCache = {
      userId: user.id, db, dataKey,
      sealSync: (value, aad) => lib.sealSync(dataKey, value, aad),
      unseal: (sealed, aad) => lib.unseal(dataKey, sealed, aad),
    }
    unlocked.value = cache
    vaultState.value = { userId: user.id, pin: !!vault.pin, failures: vault.failures }
    savesJournal.clearOthers(user.id)
    for (const { id, value } of await savesJournal.read(cache)) {
      await applySave(history, value)
      savesJournal.remove(user.id, id)
    }
    await history.enforceBudget()
    void refreshSaved(history)
    return history
  }

  /**
   * Opens this user's cache with the key the server hands a live session. No vault for them yet (first use,
   * another user's device, plain JSON from before encryption): a new data key, and whatever was here goes,
   * except this user's own plain records, which are encrypted again.
   */
  async function openOnline(user: ApiUser): Promise<OfflineHistory | null> {
    return (await quietly(async () => {
      const lib = await storage()
      const answer = await api<OfflineKeyAnswer>('/api/auth/offline-key', { query: { device: await deviceId() } })
      const serverKey = await lib.importServerKey(answer.key)
      let vault = await lib.offlineDb.get<Vault>(VAULT_KEY)
      let dataKey = vault?.userId === user.id ? await lib.openWithServer(vault, serverKey).catch(() => null) : null
      if (!vault || !dataKey) {
        const legacy = vault ? [] : (await lib.offlineDb.entries<unknown>([user.id])).filter(([, value]) => !lib.isSealed(value))
        await wipeDevice()
        ;({ vault, dataKey } = await lib.createVault(user.id, serverKey))
        await lib.offlineDb.set(VAULT_KEY, vault)
        const db = lib.createSealedStore(lib.offlineDb, dataKey)
        for (const [key, value] of legacy) await db.set(key, value)
      }
      return opened(user, vault, dataKey)
    })) ?? null
  }

  /** Someone signed in (or was confirmed by /api/auth/me): open their cache, and forget anyone else's data. */
  async function signedIn(user: ApiUser) {
    deviceMark.set(`used:${Date.now()}:${Math.random()}`)
    // signed in with a password (or the owed sign-out is done): nothing left to end
    owedSignOut.clear()
    if (session?.userId === user.id) {
      const mine = session
      await whileCurrent(mine, async () => { await unlocked.value?.db.set(USER_KEY, user) })
      return
    }
    pinWiped.value = false
    const mine: Session = { userId: user.id, history: openOnline(user) }
    session = mine
    userId.value = user.id
    await mine.history
  }

  /** The user of the open cache, for opening the app without the server (null while locked). */
  const cachedUser = async () => (unlocked.value && (await quietly(() => unlocked.value!.db.get<ApiUser>(USER_KEY)))) ?? null

  /** /api/auth/me got no answer at all: the open cache's user, or null (with `vaultState` saying whether a PIN can open it). */
  async function userWithoutServer() {
    if (online.value) markUnreachable()
    const user = await cachedUser()
    if (user) return user
    const vault = await quietly(async () => (await storage()).offlineDb.get<Vault>(VAULT_KEY))
    vaultState.value = vault ? { userId: vault.userId, pin: !!vault.pin, failures: vault.failures } : null
    return null
  }

  /** The device PIN, without the server: opens the cache (and says who was signed in), or counts a strike. */
  async function unlockWithPin(pin: string): Promise<PinUnlock> {
    const lib = await quietly(storage)
    const vault = lib && await quietly(() => lib.offlineDb.get<Vault>(VAULT_KEY))
    if (!lib || !vault?.pin) return { status: 'none' }
    const attempt = await lib.openWithPin(vault, pin)
    if (!attempt.ok) {
      if (attempt.wipe) {
        owedSignOut.set(vault.userId)
        await signedOut(vault.userId)
        pinWiped.value = true
        return { status: 'wiped' }
      }
      await quietly(() => lib.offlineDb.set(VAULT_KEY, attempt.vault))
      vaultState.value = { userId: vault.userId, pin: true, failures: attempt.vault.failures }
      return { status: 'wrong', left: attempt.left }
    }
    await quietly(() => lib.offlineDb.set(VAULT_KEY, attempt.vault))
    const user = await lib.createSealedStore(lib.offlineDb, attempt.dataKey).get<ApiUser>(USER_KEY)
    if (!user || user.id !== vault.userId) return { status: 'none' }
    const mine: Session = { userId: user.id, history: opened(user, attempt.vault, attempt.dataKey) }
    session = mine
    userId.value = user.id
    await mine.history
    return { status: 'ok', user }
  }

  /** "Usar sin conexión": the PIN (new or changed) that opens this device's cache without the server. */
  async function setPin(pin: string) {
    await session?.history
    const open = unlocked.value
    if (!open || !isValidPin(pin)) return false
    const lib = await storage()
    const vault = await lib.offlineDb.get<Vault>(VAULT_KEY)
    if (!vault || vault.userId !== open.userId) return false
    const next = await lib.withPin(vault, open.dataKey, pin)
    await lib.offlineDb.set(VAULT_KEY, next)
    vaultState.value = { userId: open.userId, pin: true, failures: 0 }
    return true
  }

  /** Offline use off: the PIN wrap goes; the cache opens only online again (and a reload offline shows the login). */
  async function removePin() {
    const lib = await quietly(storage)
    const vault = lib && await quietly(() => lib.offlineDb.get<Vault>(VAULT_KEY))
    if (!lib || !vault) return
    await lib.offlineDb.set(VAULT_KEY, { ...vault, pin: null, failures: 0 })
    vaultState.value = { userId: vault.userId, pin: false, failures: 0 }
  }

  /** Signed out or session revoked: everything of that user leaves the device, and any runtime caches with it. */
  async function signedOut(leavingId?: string) {
    const id = leavingId ?? userId.value ?? vaultState.value?.userId
    userId.value = null
    session = null
    unlocked.value = null
    savedHere.clear()
    savedIds.value = new Set()
    const mark = deviceMark.read()
    if (!id && mark !== 'clean' && await noOfflineDatabase()) {
      savesJournal.clearOthers(null)
      if (deviceMark.read() === mark) deviceMark.set('clean')
    }
    else if (id || mark !== 'clean') {
      const wiped = await quietly(async () => {
        const lib = await storage()
        const vault = await lib.offlineDb.get<Vault>(VAULT_KEY)
        if (id && vault && vault.userId !== id) { await lib.offlineDb.clear([id]); return false }
        await wipeDevice()
        return true
      })
      // nobody signed in meanwhile (another tab would have changed the mark): the device is empty
      if (wiped && deviceMark.read() === mark) deviceMark.set('clean')
    }
    if (id) savesJournal.clear(id)
    vaultState.value = null
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

  /** The saved copy of `mine`, read with `read` (undefined while the cache is not open). */
  const fromCache = <T>(mine: Session, read: (history: OfflineHistory) => Promise<T | undefined>) => async () => {
    const history = await mine.history
    return history ? read(history) : undefined
  }

  /** A page of the conversation list: the server's, or the saved one searched locally. */
  function conversationPage(request: ConversationPageRequest, network: () => Promise<ApiList<ApiConversation>>) {
    const mine = session
    if (!mine) return network()
    const asked = performance.now()
    // what this page saved since asking (until the page's own writes end) is newer than the server's answer
    const savedSince = (id: string) => (savedHere.get(id) ?? -1) >= asked
    return networkFirst(network, page => whileCurrent(mine, history => history.savePage({ ...page, data: page.data.filter(c => c.userId === mine.userId) }, request, savedSince)), fromCache(mine, history => history.listPage(request)))
  }

  /** A conversation and its newest messages: the server's, or the saved copy when it was opened before. */
  function openConversation(id: string, network: () => Promise<OpenedConversation>) {
    const mine = session
    if (!mine) return network()
    return networkFirst<OpenedConversation>(
      network,
      ([conversation, page]) => whileCurrent(mine, async (history) => {
        if (conversation.userId !== mine.userId) return
        savedHere.set(id, performance.now())
        await history.saveConversation(conversation)
        await history.saveMessages(id, page)
        await refreshSaved(history)
      }),
      fromCache(mine, async (history) => {
        const [conversation, page] = await Promise.all([history.conversation(id), history.messages(id)])
        return conversation && page ? [conversation, page] as OpenedConversation : undefined
      }),
    )
  }

  async function applySave(history: OfflineHistory, save: PendingSave) {
    if (save.kind === 'conversation') await history.saveConversation(save.conversation)
    else await history.saveMessages(save.conversationId, { total: save.total, data: save.data })
  }

  /**
   * A save that must survive a navigation or reload right after it (an answer that just finished): sealed into
   * the localStorage journal at once, then written to IndexedDB, then dropped from the journal.
   */
  function journaledSave(save: PendingSave) {
    const mine = session
    if (!mine) return
    savedHere.set(save.kind === 'conversation' ? save.conversation.id : save.conversationId, performance.now())
    const journal = (open: UnlockedCache | null) => {
      if (open?.userId !== mine.userId) return false
      savesJournal.put(open, save.id, save)
      return true
    }
    // a cache still opening (an answer right after signing in) journals the save the moment its data key is known
    const journaled = journal(unlocked.value)
    void whileCurrent(mine, async (history) => {
      const held = journaled || journal(unlocked.value)
      await applySave(history, save)
      if (held) savesJournal.remove(mine.userId, save.id)
      await refreshSaved(history)
    })
  }

  /** A conversation changed (created, renamed, pinned, answered): keep the saved list in step. */
  function saveConversation(conversation: ApiConversation) {
    if (session && conversation.userId === session.userId) journaledSave({ id: `c:${conversation.id}`, kind: 'conversation', conversation: toRaw(conversation) })
  }

  function forgetConversation(id: string) {
    const mine = session
    if (mine) void whileCurrent(mine, async (history) => {
      await history.forgetConversation(id)
      await refreshSaved(history)
    })
  }

  /** Messages shown for a conversation (after an answer, or an older page): merged into the saved copy. */
  function saveMessages(id: string, messages: ApiMessage[], total: number) {
    if (session) journaledSave({ id: `m:${id}:${++saves}`, kind: 'messages', conversationId: id, total, data: messages })
  }

  /**
   * Any other record the user has seen (a message thread, a report, the model list), kept under `[userId, ...key]`:
   * the server's answer, or the saved copy when there is no answer at all. Wiped with the rest of the user's data.
   */
  function cachedRecord<T>(key: [kind: string, ...rest: string[]], network: () => Promise<T>): Promise<T> {
    const mine = session
    if (!mine) return network()
    const db = () => unlocked.value?.db
    return networkFirst<T>(network, value => whileCurrent(mine, async () => db()?.set([mine.userId, ...key], value)), fromCache(mine, async () => db()?.get<T>([mine.userId, ...key])))
  }

  /** Changes (or, with `undefined`, drops) a saved record, e.g. after a reply or a delete. */
  function updateRecord<T>(key: [kind: string, ...rest: string[]], change: (old: T | undefined) => T | undefined) {
    const mine = session
    if (mine) void whileCurrent(mine, async () => unlocked.value?.db.update<T>([mine.userId, ...key], change))
  }

  let probe: ReturnType<typeof setInterval> | undefined
  async function lookAgain() {
    if (!online.value) return
    try {
      await api('/api/health')
      markReachable()
    }
    catch {}
  }
  // while the server is unreachable, look now and then, so the banner and the outbox notice when it is back
  function markUnreachable() {
    serverUnreachable.value = true
    if (probe || !import.meta.client) return
    probe = setInterval(lookAgain, PROBE_MS)
  }
  // …and at once when the device's network comes back (often the reason it was unreachable)
  watch(online, (now) => { if (now && serverUnreachable.value) void lookAgain() })

  function markReachable() {
    serverUnreachable.value = false
    clearInterval(probe)
    probe = undefined
  }

  async function setBudget(max: number) {
    budget.value = Math.max(1, Math.min(10_000, Math.round(max)))
    const mine = session
    await quietly(async () => {
      await (await storage()).offlineDb.set([DEVICE, 'budget'], budget.value)
      if (mine) await whileCurrent(mine, async (history) => {
        await history.enforceBudget()
        await refreshSaved(history)
      })
    })
  }

  const stats = async (): Promise<OfflineHistoryStats> => {
    const history = await session?.history
    return (history && await quietly(() => history.stats())) ?? { conversations: 0, messages: 0, bytes: 0 }
  }

  /** "Clear offline data": the saved history goes; the user stays signed in and unsent messages stay. */
  async function clearHistory() {
    const history = await session?.history
    await quietly(async () => history?.clear())
    savedIds.value = new Set()
    await clearRuntimeCaches()
  }

  return {
    userId: readonly(userId), offline, serverUnreachable: readonly(serverUnreachable), budget: readonly(budget),
    unlocked, vaultState: readonly(vaultState), pinSet, pinWiped: readonly(pinWiped), savedIds: readonly(savedIds),
    signedIn, signedOut, cachedUser, userWithoutServer, unlockWithPin, setPin, removePin,
    conversationPage, cachedRecord, updateRecord, openConversation, saveConversation, forgetConversation, saveMessages,
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
