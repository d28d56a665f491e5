import { AdminListQuery } from '#shared/admin'
import { requireUserInReach } from '../../../../services/access'
import { listConversationsOf } from '../../../../services/admin-conversations'

export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'conversations.read.team', 'conversations.read.all')
  const id = await validId(event)
  const page = await validQuery(event, AdminListQuery)
  // the scope is decided here; whether the user exists, by the page's own statement (404 from the same module)
  await requireUserInReach(viewer, id, 'conversations')
  return listConversationsOf(id, page)
})
