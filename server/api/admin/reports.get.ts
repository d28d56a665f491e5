import { StaffReportsQuery } from '#shared/messaging-schemas'
import { requireVisibleUser } from '../../services/access'
import { staffReports } from '../../services/reports'

// Staff only: reports in scope, oldest open first; a reporterId out of scope → 404.
export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'reports.manage')
  const query = await validQuery(event, StaffReportsQuery)
  if (query.reporterId) await requireVisibleUser(viewer, query.reporterId, 'reports', 'reporterId')
  return staffReports(viewer, query)
})
