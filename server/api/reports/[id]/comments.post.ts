import { ReportCommentBody } from '#shared/messaging-schemas'
import { isReportStaffFor, requireReport } from '../../../services/access'
import { addComment } from '../../../services/reports'

// The reporter comments; setting `status` needs staff in scope (the reporter gets 403).
export default defineEventHandler(async (event) => {
  const viewer = await requireUser(event)
  const id = await validId(event)
  const body = await validBody(event, ReportCommentBody)
  const report = await requireReport(viewer, id, body.status ? 'manage' : 'comment')
  const asStaff = report.reporterId !== viewer.id && await isReportStaffFor(viewer, report.reporterId)
  const comment = await addComment(event, viewer, report, body, asStaff)
  setResponseStatus(event, 201)
  return comment
})
