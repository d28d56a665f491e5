import { CreateReportBody } from '#shared/messaging-schemas'
import { createReport } from '../../services/reports'

export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'reports.create')
  const body = await validBody(event, CreateReportBody)
  const { repeated, ...report } = await createReport(viewer, body)
  // a repeated outbox send (same clientId) filed nothing: 200 with the report the first one filed
  setResponseStatus(event, repeated ? 200 : 201)
  return report
})
