import { ResolveReportBody } from '#shared/messaging-schemas'
import { requireReport } from '../../../services/access'
import { resolveReport } from '../../../services/reports'

// Staff in scope resolve, optionally with a closing comment; the reporter gets 403.
export default defineEventHandler(async (event) => {
  const viewer = await requireUser(event)
  const id = await validId(event)
  const { comment } = await validBody(event, ResolveReportBody)
  const report = await requireReport(viewer, id, 'manage')
  return resolveReport(event, viewer, report, comment)
})
