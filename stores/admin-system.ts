import type { AdminStats, AdminSystemPrompt, AuditEntry, AuditNames } from '#shared/admin'
import type { AppSettings } from '#shared/settings'
import type { ApiList, ApiModel, ApiModelServer } from '#shared/types'

export const AUDIT_PAGE = 50

export interface AuditFilterForm { actorId: string, action: string, from: string, to: string }
/** The model settings as `/api/admin/settings` answers them: the server's own schema's type. */
export type ModelSettings = AppSettings
export interface PromptInput { name: string, content: string, isDefault: boolean }

const auditQuery = (filter: AuditFilterForm) => ({
  actorId: filter.actorId || undefined,
  action: filter.action || undefined,
  from: filter.from || undefined,
  to: filter.to || undefined,
})

/**
 * The admin-only areas of the panel (audit log, system prompts, model settings) and the usage stats that
 * supervisors also see, for their team.
 */
export const useAdminSystemStore = defineStore('admin-system', () => {
  const api = useApi()

  const audit = ref<AuditEntry[]>([])
  const auditTotal = ref(0)
  const auditOffset = ref(0)
  /** Names and titles for the ids on the current page. */
  const auditNames = ref<AuditNames>({ users: {}, conversations: {}, reports: {} })
  const auditFilter = ref<AuditFilterForm>({ actorId: '', action: '', from: '', to: '' })
  let auditRun = 0

  /** One page of the audit log for the current filter (newest first). */
  async function loadAudit(offset = 0) {
    const mine = ++auditRun
    const page = await api<ApiList<AuditEntry> & { names?: AuditNames }>('/api/admin/audit', { query: { ...auditQuery(auditFilter.value), limit: AUDIT_PAGE, offset } })
    if (mine !== auditRun) return
    audit.value = page.data
    auditNames.value = page.names ?? { users: {}, conversations: {}, reports: {} }
    auditTotal.value = page.total
    auditOffset.value = offset
  }

  /** The CSV download of the current filter (the browser sends the session cookie). */
  const auditCsvUrl = computed(() => {
    const params = new URLSearchParams(Object.entries(auditQuery(auditFilter.value)).filter((e): e is [string, string] => !!e[1]))
    const query = params.toString()
    return `/api/admin/audit.csv${query ? `?${query}` : ''}`
  })

  const prompts = ref<AdminSystemPrompt[]>([])
  async function loadPrompts() {
    prompts.value = (await api<ApiList<AdminSystemPrompt>>('/api/admin/system-prompts')).data
  }
  async function createPrompt(input: PromptInput) {
    await api<AdminSystemPrompt>('/api/admin/system-prompts', { method: 'POST', body: { ...input } })
    await loadPrompts()
  }
  async function updatePrompt(id: string, changes: Partial<PromptInput>) {
    await api<AdminSystemPrompt>(`/api/admin/system-prompts/${encodeURIComponent(id)}`, { method: 'PATCH', body: { ...changes } })
    // making one the default unsets the others: read the list again
    await loadPrompts()
  }
  async function deletePrompt(id: string) {
    await api<void>(`/api/admin/system-prompts/${encodeURIComponent(id)}`, { method: 'DELETE' })
    await loadPrompts()
  }

  const settings = ref<ModelSettings | null>(null)
  const loadSettings = async () => (settings.value = await api<ModelSettings>('/api/admin/settings'))
  /** Saves only what changed; the new values apply to the next chat. */
  async function saveSettings(changes: Partial<ModelSettings>) {
    settings.value = await api<ModelSettings>('/api/admin/settings', { method: 'PUT', body: { ...changes } })
    return settings.value
  }
  /** The models Ollama has (throws 503 when it is down). */
  const loadModels = async () => (await api<{ data: ApiModel[] }>('/api/models')).data
  /** Each model server of the pool: state, last error, models and load (admins only). */
  const loadModelServers = async () => (await api<{ data: ApiModelServer[] }>('/api/admin/model-servers')).data

  const stats = ref<AdminStats | null>(null)
  const statsDays = ref(30)
  let statsRun = 0
  async function loadStats(days = statsDays.value) {
    const mine = ++statsRun
    statsDays.value = days
    const value = await api<AdminStats>('/api/admin/stats', { query: { days } })
    if (mine === statsRun) stats.value = value
  }

  function clear() {
    audit.value = []
    auditTotal.value = 0
    auditOffset.value = 0
    auditNames.value = { users: {}, conversations: {}, reports: {} }
    auditFilter.value = { actorId: '', action: '', from: '', to: '' }
    prompts.value = []
    settings.value = null
    stats.value = null
  }

  return {
    audit, auditTotal, auditOffset, auditNames, auditFilter, loadAudit, auditCsvUrl,
    prompts, loadPrompts, createPrompt, updatePrompt, deletePrompt,
    settings, loadSettings, saveSettings, loadModels, loadModelServers,
    stats, statsDays, loadStats,
    clear,
    $reset: clear,
  }
})
