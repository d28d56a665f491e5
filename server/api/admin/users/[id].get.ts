import { requireVisibleUser } from '../../../services/access'
import { userForAdmin } from '../../../services/admin-users'

export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'users.read', 'users.manage', 'conversations.read.team', 'conversations.read.all')
  const user = await requireVisibleUser(viewer, await validId(event))
  return userForAdmin(user)
})
