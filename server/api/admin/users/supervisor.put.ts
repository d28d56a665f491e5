import { audit } from '../../../services/audit'
import { assignSupervisor, BulkSupervisorBody } from '../../../services/team'

/** Bulk assignment: one supervisor (or none) for many users at once. */
export default defineEventHandler(async (event) => {
  await requirePermission(event, 'users.manage')
  const { userIds, supervisorId } = await validBody(event, BulkSupervisorBody)
  const updated = await assignSupervisor(userIds, supervisorId)
  await audit(event, 'admin.supervisor_assigned', { targetType: 'user', meta: { userIds, supervisorId } })
  return { updated }
})
