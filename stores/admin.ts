import type { AdminUser } from '#shared/admin'
import type { ApiConversation, ApiList, ApiMessage, ApiUser, Role } from '#shared/types'

const PAGE = 50
const MESSAGE_PAGE = 50

/** `roleId`: the holders of one (custom) role, '' for none — Admin → Usuarios takes it from its `?roleId=`. */
export interface UsersFilter { q: string, role: Role | '', active: '' | 'true' | 'false', roleId: string }
export interface NewUser { email: string, fullName: string, role: Role, password?: string, supervisorId?: string | null }
export type UserFieldErrors = Partial<Record<'email' | 'fullName' | 'role' | 'password' | 'supervisorId', string>>
export interface TeamDefaults { signupSupervisors: Array<{ domain: string, supervisorId: string }> }
export interface UserChanges { fullName?: string, role?: Role, active?: boolean, supervisorId?: string | null }

/** One paged list with a "newest request wins" guard, so a slow answer never overwrites a newer one. */
function pagedList<T extends { id: string }>() {
  const items = ref<T[]>([]) as Ref<T[]>
  const total = ref(0)
  const loading = ref(false)
  const error = ref<unknown>(null)
  let run = 0
  const hasMore = computed(() => items.value.length < total.value)

  async function load(fetchPage: (offset: number) => Promise<ApiList<T>>, append = false) {
    const mine = ++run
    loading.value = true
    error.value = null
    try {
      const page = await fetchPage(append ? items.value.length : 0)
      if (mine !== run) return
      const known = new Set(append ? items.value.map(i => i.id) : [])
      items.value = append ? [...items.value, ...page.data.filter(i => !known.has(i.id))] : page.data
      total.value = page.total
    }
    catch (e) {
      if (mine === run) error.value = e
    }
    finally {
      if (mine === run) loading.value = false
    }
  }
  function clear() {
    run++
    items.value = []
    total.value = 0
    loading.value = false
    error.value = null
  }
  return { items, total, loading, error, hasMore, load, clear }
}

/**
 * The admin panel's people and conversations, within the caller's scope (the server decides it): the users
 * column, one user's conversations, one conversation's messages (each read is audited by the server), reassigning,
 * and the admin-only user management that changes the cached rows in place.
 */
export const useAdminStore = defineStore('admin', () => {
  const api = useApi()

  const users = pagedList<AdminUser>()
  const usersFilter = ref<UsersFilter>({ q: '', role: '', active: '', roleId: '' })
  const usersQuery = (offset: number, limit = PAGE) => ({
    q: usersFilter.value.q.trim() || undefined,
    role: usersFilter.value.role || undefined,
    active: usersFilter.value.active || undefined,
    roleId: usersFilter.value.roleId || undefined,
    limit,
    offset,
  })
  const fetchUsers = (offset: number) => api<ApiList<AdminUser>>('/api/admin/users', { query: usersQuery(offset) })
  const loadUsers = () => users.load(fetchUsers)
  const loadMoreUsers = () => users.load(fetchUsers, true)
  /** Names of every user seen so far, for labels (conversation owner, audit actor). */
  const known = ref(new Map<string, Pick<AdminUser, 'id' | 'fullName' | 'email' | 'role'>>())
  watch(() => users.items.value, list => list.forEach(remember))
  function remember(user: Pick<AdminUser, 'id' | 'fullName' | 'email' | 'role'>) {
    known.value.set(user.id, { id: user.id, fullName: user.fullName, email: user.email, role: user.role })
  }
  const userById = (id: string | null | undefined) => (id ? users.items.value.find(u => u.id === id) ?? known.value.get(id) ?? null : null)

  /** A person opened by address (`/admin/users?id=`, where the audit log's names lead) who is not on the loaded page. */
  const openedUser = ref<AdminUser | null>(null)
  /** The person `id`, from the loaded page or the server (404 when out of scope or nobody's). */
  async function openAccount(id: string): Promise<AdminUser> {
    const row = users.items.value.find(u => u.id === id)
    if (row) return row
    const user = await api<AdminUser>(`/api/admin/users/${encodeURIComponent(id)}`)
    remember(user)
    openedUser.value = user
    return user
  }

  /** Users matching `q` within scope, for pickers (not kept in the list). */
  async function searchUsers(q: string, opts: { active?: boolean, role?: Role, limit?: number } = {}) {
    const page = await api<ApiList<AdminUser>>('/api/admin/users', {
      query: { q: q.trim() || undefined, active: opts.active === undefined ? undefined : String(opts.active), role: opts.role, limit: opts.limit ?? 20 },
    })
    page.data.forEach(remember)
    return page.data
  }

  const conversations = pagedList<ApiConversation>()
  const conversationsOf = ref<string | null>(null)
  const fetchConversations = (userId: string) => (offset: number) =>
    api<ApiList<ApiConversation>>(`/api/admin/users/${encodeURIComponent(userId)}/conversations`, { query: { limit: PAGE, offset } })
  function openUser(userId: string | null, force = false) {
    if (!force && userId === conversationsOf.value && (conversations.items.value.length || conversations.loading.value)) return
    conversationsOf.value = userId
    if (!userId) return conversations.clear()
    return conversations.load(fetchConversations(userId))
  }
  const reloadConversations = () => (conversationsOf.value ? conversations.load(fetchConversations(conversationsOf.value)) : undefined)
  const loadMoreConversations = () => (conversationsOf.value ? conversations.load(fetchConversations(conversationsOf.value), true) : undefined)

  const messages = ref<ApiMessage[]>([])
  const messagesTotal = ref(0)
  const messagesOf = ref<string | null>(null)
  const messagesLoading = ref(false)
  const messagesError = ref<unknown>(null)
  let messagesRun = 0
  const hasOlderMessages = computed(() => messages.value.length < messagesTotal.value)

  /** Opens a conversation read-only (the server records the read when it is someone else's). */
  async function openConversation(id: string | null, force = false) {
    if (id === messagesOf.value && !force && (messages.value.length || messagesLoading.value)) return
    const mine = ++messagesRun
    messagesOf.value = id
    messages.value = []
    messagesTotal.value = 0
    messagesError.value = null
    if (!id) { messagesLoading.value = false; return }
    messagesLoading.value = true
    try {
      const page = await api<ApiList<ApiMessage>>(`/api/admin/conversations/${encodeURIComponent(id)}/messages`, { query: { limit: MESSAGE_PAGE } })
      if (mine !== messagesRun) return
      messages.value = page.data
      messagesTotal.value = page.total
    }
    catch (e) { if (mine === messagesRun) messagesError.value = e }
    finally { if (mine === messagesRun) messagesLoading.value = false }
  }

  async function loadOlderMessages() {
    const id = messagesOf.value
    const oldest = messages.value[0]
    if (!id || !oldest || messagesLoading.value) return
    const mine = ++messagesRun
    messagesLoading.value = true
    try {
      const page = await api<ApiList<ApiMessage>>(`/api/admin/conversations/${encodeURIComponent(id)}/messages`, { query: { limit: MESSAGE_PAGE, before: oldest.id } })
      if (mine !== messagesRun) return
      const knownIds = new Set(messages.value.map(m => m.id))
      messages.value = [...page.data.filter(m => !knownIds.has(m.id)), ...messages.value]
      messagesTotal.value = page.total
    }
    catch (e) { if (mine === messagesRun) messagesError.value = e }
    finally { if (mine === messagesRun) messagesLoading.value = false }
  }

  function adjustCount(userId: string, delta: number) {
    const user = users.items.value.find(u => u.id === userId)
    if (user) user.conversationCount = Math.max(0, user.conversationCount + delta)
  }

  /** Moves a conversation to `target`; it leaves the shown list and the counts follow. Returns the moved conversation. */
  async function reassign(conversation: ApiConversation, target: Pick<AdminUser, 'id'>) {
    const { data } = await api<{ message: string, data: ApiConversation }>(
      `/api/admin/conversations/${encodeURIComponent(conversation.id)}/reassign`,
      { method: 'PATCH', body: { targetUserId: target.id } },
    )
    if (data.userId !== conversation.userId) {
      adjustCount(conversation.userId, -1)
      adjustCount(data.userId, +1)
      if (conversationsOf.value === conversation.userId) {
        conversations.items.value = conversations.items.value.filter(c => c.id !== conversation.id)
        conversations.total.value = Math.max(0, conversations.total.value - 1)
      }
      else if (conversationsOf.value === data.userId) {
        await reloadConversations()
      }
    }
    return data
  }

  // admin-only user management: the answer replaces the cached row
  function replaceUser(user: ApiUser) {
    for (const row of [users.items.value.find(u => u.id === user.id), openedUser.value?.id === user.id ? openedUser.value : null]) {
      if (row) Object.assign(row, { ...user, lastActiveAt: row.lastActiveAt ?? user.lastActiveAt })
    }
    remember(user)
  }

  async function createUser(input: NewUser) {
    const body: Record<string, unknown> = { email: input.email, fullName: input.fullName, role: input.role }
    if (input.password) body.password = input.password
    if (input.supervisorId) body.supervisorId = input.supervisorId
    const created = await api<{ user: ApiUser, temporaryPassword?: string }>('/api/admin/users', { method: 'POST', body })
    remember(created.user)
    await loadUsers()
    return created
  }

  async function updateUser(id: string, changes: UserChanges) {
    const { user } = await api<{ user: ApiUser }>(`/api/admin/users/${encodeURIComponent(id)}`, { method: 'PATCH', body: { ...changes } })
    replaceUser(user)
    return user
  }

  const resetPassword = (id: string) =>
    api<{ temporaryPassword: string }>(`/api/admin/users/${encodeURIComponent(id)}/reset-password`, { method: 'POST' })

  async function reset2fa(id: string) {
    await api<void>(`/api/admin/users/${encodeURIComponent(id)}/reset-2fa`, { method: 'POST' })
    const row = users.items.value.find(u => u.id === id)
    if (row) row.totpEnabled = false
    if (openedUser.value?.id === id) openedUser.value.totpEnabled = false
  }

  /** Deletes a user for good; their conversations and reports move to `transferTo`, or go with them. */
  async function deleteUser(id: string, transferTo?: string) {
    await api<void>(`/api/admin/users/${encodeURIComponent(id)}`, { method: 'DELETE', query: { transferTo } })
    users.items.value = users.items.value.filter(u => u.id !== id)
    users.total.value = Math.max(0, users.total.value - 1)
    if (openedUser.value?.id === id) openedUser.value = null
  }

  /** Sets a verified phone number for the user. */
  async function setPhone(id: string, phone: string) {
    const user = await api<ApiUser>(`/api/admin/users/${encodeURIComponent(id)}/phone`, { method: 'POST', body: { phone } })
    replaceUser(user)
    return user
  }

  /** One supervisor (or none) for many users at once; the list is reloaded. */
  async function assignSupervisor(userIds: string[], supervisorId: string | null) {
    const { updated } = await api<{ updated: number }>('/api/admin/users/supervisor', { method: 'PUT', body: { userIds, supervisorId } })
    await loadUsers()
    return updated
  }

  const teamDefaults = () => api<TeamDefaults>('/api/admin/team-defaults')
  const saveTeamDefaults = (value: TeamDefaults) => api<TeamDefaults>('/api/admin/team-defaults', { method: 'PUT', body: { ...value } })

  /** Active supervisors and admins: who may supervise a worker. */
  async function supervisorOptions() {
    const [supervisors, admins] = await Promise.all([
      searchUsers('', { role: 'supervisor', active: true, limit: 100 }),
      searchUsers('', { role: 'admin', active: true, limit: 100 }),
    ])
    return [...supervisors, ...admins]
  }

  /** Forget everything (another person may sign in on this device). */
  function clear() {
    users.clear()
    usersFilter.value = { q: '', role: '', active: '', roleId: '' }
    known.value = new Map()
    openedUser.value = null
    conversationsOf.value = null
    conversations.clear()
    void openConversation(null)
  }

  return {
    users: users.items,
    usersTotal: users.total,
    usersLoading: users.loading,
    usersError: users.error,
    hasMoreUsers: users.hasMore,
    usersFilter,
    loadUsers,
    loadMoreUsers,
    userById,
    openedUser,
    openAccount,
    searchUsers,
    conversations: conversations.items,
    conversationsTotal: conversations.total,
    conversationsLoading: conversations.loading,
    conversationsError: conversations.error,
    hasMoreConversations: conversations.hasMore,
    conversationsOf,
    openUser,
    reloadConversations,
    loadMoreConversations,
    messages,
    messagesTotal,
    messagesOf,
    messagesLoading,
    messagesError,
    hasOlderMessages,
    openConversation,
    loadOlderMessages,
    reassign,
    createUser,
    updateUser,
    resetPassword,
    reset2fa,
    supervisorOptions,
    deleteUser,
    setPhone,
    assignSupervisor,
    teamDefaults,
    saveTeamDefaults,
    replaceUser,
    clear,
    $reset: clear,
  }
})
