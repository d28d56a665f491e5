import { AuditQuery } from '#shared/admin'
import { sendAuditCsv } from '../../services/admin-audit'

// Same filters as GET /api/admin/audit, as a CSV download (also reachable as /api/admin/audit?format=csv).
export default defineEventHandler(async (event) => {
  await requirePermission(event, 'audit.read')
  return sendAuditCsv(event, await validQuery(event, AuditQuery))
})
