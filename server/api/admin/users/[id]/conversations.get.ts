import { AdminListQuery } from '#shared/admin'
import { requireVisibleUser } from '../../../../services/access'
import { listConversationsOf } from '../../../../services/admin-conversations'

export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'conversations.read.team', 'conversations.read.all')
  const id = await validId(event)
  const page = await validQuery(event, AdminListQuery)
  const user = await requireVisibleUser(viewer, id, 'conversations')
  return listConversationsOf(user.id, page)
})
