import { CreateReportBody } from '#shared/messaging-schemas'
import { createReport } from '../../services/reports'

export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'reports.create')
  const body = await validBody(event, CreateReportBody)
  const report = await createReport(viewer, body)
  setResponseStatus(event, 201)
  return report
})
