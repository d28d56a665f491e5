import { requireReport } from '../../services/access'
import { reportDetail } from '../../services/reports'

// The reporter or staff in scope; else 404. Comments oldest first.
export default defineEventHandler(async (event) => {
  const viewer = await requireUser(event)
  const id = await validId(event)
  await requireReport(viewer, id, 'read')
  return reportDetail(id)
})
