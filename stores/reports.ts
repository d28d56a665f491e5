import type { ApiReport, ApiReportComment, ApiReportDetail, ReportStatus } from '#shared/messaging'
import type { ApiList } from '#shared/types'

const PAGE_SIZE = 50

/** Staff queue filters (GET /api/admin/reports). */
export interface ReportQueueFilters { status: ReportStatus | '', reporterId: string, q: string }

/**
 * Reports (incidencias): the user's own (filed, read, edited while open, replied to), the staff queue for users
 * with `reports.manage`, and the one opened report with its comments. Live `report` events patch the status
 * chips and reload the open report. Own lists and opened reports are saved for offline reading.
 */
export const useReportsStore = defineStore('reports', () => {
  const api = useApi()
  const auth = useAuthStore()
  const offline = useOfflineStore()

  const mine = ref<ApiReport[]>([])
  const mineTotal = ref(0)
  const mineLoading = ref(false)
  const mineLoaded = ref(false)
  const mineFailed = ref(false)

  const queue = ref<ApiReport[]>([])
  const queueTotal = ref(0)
  const queueLoading = ref(false)
  const queueFailed = ref(false)
  /** The queue was shown on this page load (only then do live events re-read it). */
  let queueWanted = false
  const filters = ref<ReportQueueFilters>({ status: '', reporterId: '', q: '' })
  /** The queue's person filter: whoever filed a report within the caller's scope (the server's own list). */
  const reporters = ref<Array<{ id: string, fullName: string }>>([])
  let reportersStale = false

  const detail = ref<ApiReportDetail | null>(null)
  const detailLoading = ref(false)
  const detailMissing = ref(false)
  const detailFailed = ref(false)

  let mineRun = 0
  let queueRun = 0
  let detailRun = 0

  const canManage = computed(() => !!auth.user?.permissions.includes('reports.manage'))

  async function loadMine() {
    const run = ++mineRun
    mineLoading.value = true
    mineFailed.value = false
    try {
      const page = await offline.cachedRecord(['reports', 'mine'], () => api<ApiList<ApiReport>>('/api/reports', { query: { limit: PAGE_SIZE } }))
      if (run !== mineRun) return
      mine.value = page.data
      mineTotal.value = page.total
      mineLoaded.value = true
    }
    catch {
      if (run === mineRun) mineFailed.value = true
    }
    finally {
      if (run === mineRun) mineLoading.value = false
    }
  }

  /** The staff queue for the current filters: reports in scope, oldest open first. */
  async function loadQueue(change: Partial<ReportQueueFilters> = {}) {
    filters.value = { ...filters.value, ...change }
    queueWanted = true
    const run = ++queueRun
    queueLoading.value = true
    queueFailed.value = false
    const { status, reporterId, q } = filters.value
    try {
      const page = await api<ApiList<ApiReport>>('/api/admin/reports', { query: { status: status || undefined, reporterId: reporterId || undefined, q: q.trim() || undefined, limit: PAGE_SIZE } })
      if (run !== queueRun) return
      queue.value = page.data
      queueTotal.value = page.total
    }
    catch {
      if (run !== queueRun) return
      queueFailed.value = true
      // the list on screen answered other filters: it must not stand for these
      if (Object.keys(change).length) {
        queue.value = []
        queueTotal.value = 0
      }
    }
    finally {
      if (run === queueRun) queueLoading.value = false
    }
  }

  async function loadReporters() {
    reportersStale = false
    try { reporters.value = (await api<{ data: Array<{ id: string, fullName: string }> }>('/api/admin/reports/reporters')).data }
    catch { reportersStale = true }
  }

  /** A report changed (or was filed): its chip in every list shows the new state. */
  function patchLists(report: ApiReport) {
    const swap = (list: ApiReport[]) => list.map(r => (r.id === report.id ? { ...r, ...report } : r))
    mine.value = swap(mine.value)
    queue.value = swap(queue.value)
    if (detail.value?.id === report.id) detail.value = { ...detail.value, ...report }
  }

  function saveDetail() {
    const report = detail.value
    if (report) offline.updateRecord<ApiReportDetail>(['reports', 'detail', report.id], () => report)
  }

  async function open(id: string | null) {
    const run = ++detailRun
    detail.value = null
    detailMissing.value = false
    detailFailed.value = false
    if (!id) return
    detailLoading.value = true
    try {
      const report = await offline.cachedRecord(['reports', 'detail', id], () => api<ApiReportDetail>(`/api/reports/${id}`))
      if (run !== detailRun) return
      detail.value = report
    }
    catch (error) {
      if (run !== detailRun) return
      if (isApiError(error) && (error.statusCode === 404 || error.statusCode === 400)) detailMissing.value = true
      else detailFailed.value = true
    }
    finally {
      if (run === detailRun) detailLoading.value = false
    }
  }

  /** Reloads the open report quietly (a live change, or after a comment). */
  async function refreshDetail() {
    const id = detail.value?.id
    if (!id) return
    try {
      const report = await api<ApiReportDetail>(`/api/reports/${id}`)
      if (detail.value?.id !== id) return
      detail.value = report
      patchLists(report)
      saveDetail()
    }
    catch {}
  }

  /** Files a report; throws ApiRequestError (0 = no network: the page puts it in the outbox). */
  async function create(input: { title: string, content: string, clientId?: string }) {
    const report = await api<ApiReport>('/api/reports', { method: 'POST', body: input })
    // an outbox repeat (same clientId) answers the report the first send filed: counted once
    if (!mine.value.some(r => r.id === report.id)) mineTotal.value++
    mine.value = [report, ...mine.value.filter(r => r.id !== report.id)]
    return report
  }

  async function update(id: string, change: { title?: string, content?: string }) {
    const report = await api<ApiReport>(`/api/reports/${id}`, { method: 'PUT', body: change })
    patchLists(report)
    saveDetail()
    return report
  }

  async function comment(id: string, content: string, status?: ReportStatus) {
    const added = await api<ApiReportComment>(`/api/reports/${id}/comments`, { method: 'POST', body: status ? { content, status } : { content } })
    if (detail.value?.id === id) {
      detail.value = { ...detail.value, comments: [...detail.value.comments, added], commentCount: detail.value.commentCount + 1, ...(status ? { status } : {}) }
      saveDetail()
    }
    await refreshDetail()
    return added
  }

  async function resolve(id: string, note?: string) {
    const report = await api<ApiReport>(`/api/reports/${id}/resolve`, { method: 'PUT', body: note ? { comment: note } : {} })
    patchLists(report)
    await refreshDetail()
    return report
  }

  let queueTimer: ReturnType<typeof setTimeout> | undefined
  /** A live `report` event: chips change at once; the open report and (for staff) the queue are read again. */
  function applyLive(id: string, status: ReportStatus) {
    const known = [...mine.value, ...queue.value].find(r => r.id === id)
    if (known) patchLists({ ...known, status })
    if (detail.value?.id === id) {
      detail.value = { ...detail.value, status }
      void refreshDetail()
    }
    if (!known && mineLoaded.value) void loadMine()
    // a new report or one that moved between filters: read the queue again (once for a burst of events), and
    // the person filter when the report may be someone's first
    if (canManage.value && queueWanted) {
      if (!known) reportersStale = true
      clearTimeout(queueTimer)
      queueTimer = setTimeout(() => {
        void loadQueue()
        if (reportersStale) void loadReporters()
      }, 300)
    }
  }

  function $reset() {
    clearTimeout(queueTimer)
    queueWanted = false
    mineRun++
    queueRun++
    detailRun++
    mine.value = []
    mineTotal.value = 0
    mineLoading.value = false
    mineLoaded.value = false
    mineFailed.value = false
    queue.value = []
    queueTotal.value = 0
    queueLoading.value = false
    queueFailed.value = false
    filters.value = { status: '', reporterId: '', q: '' }
    reporters.value = []
    reportersStale = false
    detail.value = null
    detailLoading.value = false
    detailMissing.value = false
    detailFailed.value = false
  }
  auth.onSignOut(() => $reset())

  return {
    mine, mineTotal, mineLoading, mineLoaded, mineFailed, queue, queueTotal, queueLoading, queueFailed, filters,
    reporters, detail, detailLoading, detailMissing, detailFailed, canManage,
    loadMine, loadQueue, loadReporters, open, refreshDetail, create, update, comment, resolve, applyLive, $reset,
  }
})
