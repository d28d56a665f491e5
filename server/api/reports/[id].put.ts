import { UpdateReportBody } from '#shared/messaging-schemas'
import { requireReport } from '../../services/access'
import { updateReport } from '../../services/reports'

// The reporter only (staff 403), only while open (409).
export default defineEventHandler(async (event) => {
  const viewer = await requireUser(event)
  const id = await validId(event)
  const change = await validBody(event, UpdateReportBody)
  const report = await requireReport(viewer, id, 'edit')
  return updateReport(report, change)
})
