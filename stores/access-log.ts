import type { AccessLogEntry } from '#shared/admin'
import type { ApiList } from '#shared/types'

interface UnseenAccess { conversationId: string, count: number, lastAt: string }

/**
 * Owner transparency (issue 13.2): who opened the caller's conversations, and which ones were opened since the
 * caller last looked (the sidebar's dot). The "last looked" mark lives on the server.
 */
export const useAccessLogStore = defineStore('access-log', () => {
  const api = useApi()
  /** Conversation id → reads since the owner last looked. */
  const unseen = ref<Record<string, number>>({})

  async function loadUnseen() {
    try {
      const { data } = await api<{ data: UnseenAccess[] }>('/api/conversations/access-unseen')
      unseen.value = Object.fromEntries(data.map(u => [u.conversationId, u.count]))
    }
    catch {} // a dot is a hint: without it the list still works
  }

  /** The newest accesses of a conversation; marks them seen for the owner. */
  async function open(conversationId: string, owner: boolean) {
    const page = await api<ApiList<AccessLogEntry>>(`/api/conversations/${conversationId}/access-log`, { query: { limit: 100 } })
    if (owner) {
      const { [conversationId]: _, ...rest } = unseen.value
      unseen.value = rest
      void api(`/api/conversations/${conversationId}/access-log/seen`, { method: 'PUT' }).catch(() => {})
    }
    return page
  }

  function $reset() { unseen.value = {} }
  useAuthStore().onSignOut($reset)

  return { unseen, loadUnseen, open, $reset }
})
