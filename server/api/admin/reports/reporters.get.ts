import { staffReporters } from '../../../services/reports'

// Staff only: who has filed reports the caller handles (their scope), for the queue's person filter.
export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'reports.manage')
  return { data: await staffReporters(viewer) }
})
