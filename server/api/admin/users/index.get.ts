import { AdminUsersQuery } from '#shared/admin'
import { listUsersForAdmin } from '../../../services/admin-users'

export default defineEventHandler(async (event) => {
  const viewer = await requireRole(event, 'admin', 'supervisor')
  const filter = await validQuery(event, AdminUsersQuery)
  return listUsersForAdmin(viewer, filter)
})
