import { AdminListQuery } from '#shared/admin'
import { requireVisibleUser } from '../../../../services/access'
import { listConversationsOf } from '../../../../services/admin-conversations'

export default defineEventHandler(async (event) => {
  const viewer = await requireRole(event, 'admin', 'supervisor')
  const id = await validId(event)
  const page = await validQuery(event, AdminListQuery)
  const user = await requireVisibleUser(viewer, id)
  return listConversationsOf(user.id, page)
})
