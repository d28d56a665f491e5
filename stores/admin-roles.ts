import type { Permission } from '#shared/permissions'
import type { ApiRole } from '#shared/roles'
import type { ApiUser } from '#shared/types'

export interface RoleInput { name: string, description: string, permissions: Permission[] }

/** Administración → Roles: the built-in and custom roles, and which extra roles a user holds. */
export const useAdminRolesStore = defineStore('admin-roles', () => {
  const api = useApi()
  const roles = ref<ApiRole[]>([])
  const loading = ref(false)
  const error = ref<unknown>(null)
  const custom = computed(() => roles.value.filter(r => !r.builtIn))

  async function load() {
    loading.value = true
    error.value = null
    try { roles.value = (await api<{ data: ApiRole[] }>('/api/admin/roles')).data }
    catch (e) { error.value = e }
    finally { loading.value = false }
  }

  async function create(input: RoleInput) {
    const role = await api<ApiRole>('/api/admin/roles', { method: 'POST', body: { ...input } })
    await load()
    return role
  }

  async function update(id: string, input: Partial<RoleInput>) {
    const role = await api<ApiRole>(`/api/admin/roles/${encodeURIComponent(id)}`, { method: 'PATCH', body: { ...input } })
    roles.value = roles.value.map(r => (r.id === id ? role : r))
    return role
  }

  async function remove(id: string) {
    await api<void>(`/api/admin/roles/${encodeURIComponent(id)}`, { method: 'DELETE' })
    roles.value = roles.value.filter(r => r.id !== id)
  }

  /** The extra roles a user holds. */
  const rolesOf = async (userId: string) => (await api<{ data: ApiRole[] }>(`/api/admin/users/${encodeURIComponent(userId)}/roles`)).data

  /** Replaces a user's extra roles; counts are refreshed. */
  async function assign(userId: string, roleIds: string[]) {
    const user = await api<ApiUser>(`/api/admin/users/${encodeURIComponent(userId)}/roles`, { method: 'PUT', body: { roleIds } })
    void load()
    return user
  }

  function $reset() {
    roles.value = []
    loading.value = false
    error.value = null
  }

  return { roles, custom, loading, error, load, create, update, remove, rolesOf, assign, $reset }
})
