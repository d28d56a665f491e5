import { MyReportsQuery } from '#shared/messaging-schemas'
import { myReports } from '../../services/reports'

// The caller's own reports, newest first (staff see others' in /api/admin/reports).
export default defineEventHandler(async (event) => {
  const viewer = await requireUser(event)
  const query = await validQuery(event, MyReportsQuery)
  return myReports(viewer, query)
})
