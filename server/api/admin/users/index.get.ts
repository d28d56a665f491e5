import { AdminUsersQuery } from '#shared/admin'
import { listUsersForAdmin } from '../../../services/admin-users'

export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'users.read', 'users.manage', 'conversations.read.team', 'conversations.read.all')
  const filter = await validQuery(event, AdminUsersQuery)
  return listUsersForAdmin(viewer, filter)
})
