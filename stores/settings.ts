import type { ApiSession, ApiToken } from '#shared/types'

export interface CreatedToken { id: string, name: string, token: string }

/** The account settings lists: active sessions and personal API tokens. */
export const useSettingsStore = defineStore('settings', () => {
  const api = useApi()
  const sessions = ref<ApiSession[]>([])
  const tokens = ref<ApiToken[]>([])

  async function loadSessions() {
    sessions.value = (await api<{ data: ApiSession[] }>('/api/auth/sessions')).data
  }

  async function revokeSession(id: string) {
    await api<void>(`/api/auth/sessions/${encodeURIComponent(id)}`, { method: 'DELETE' })
    sessions.value = sessions.value.filter(s => s.id !== id)
  }

  async function loadTokens() {
    tokens.value = (await api<{ data: ApiToken[] }>('/api/auth/tokens')).data
  }

  /** Creates a token; the secret in the answer is never shown again. */
  async function createToken(name: string, password: string, expiresInDays?: number): Promise<CreatedToken> {
    const created = await api<CreatedToken>('/api/auth/tokens', { method: 'POST', body: expiresInDays ? { name, password, expiresInDays } : { name, password } })
    await loadTokens()
    return created
  }

  async function revokeToken(id: string) {
    await api<void>(`/api/auth/tokens/${encodeURIComponent(id)}`, { method: 'DELETE' })
    tokens.value = tokens.value.filter(t => t.id !== id)
  }

  function $reset() {
    sessions.value = []
    tokens.value = []
  }

  return { sessions, tokens, loadSessions, revokeSession, loadTokens, createToken, revokeToken, $reset }
})
