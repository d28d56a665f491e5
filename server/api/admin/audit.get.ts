import { AuditQuery } from '#shared/admin'
import { listAudit, sendAuditCsv } from '../../services/admin-audit'

export default defineEventHandler(async (event) => {
  await requirePermission(event, 'audit.read')
  const filter = await validQuery(event, AuditQuery)
  if (filter.format === 'csv') return sendAuditCsv(event, filter)
  return listAudit(filter)
})
