import { AdminListQuery } from '#shared/admin'
import { requireConversation } from '../../../services/access'
import { conversationAccessLog } from '../../../services/admin-audit'

// Owner transparency: who (admins, supervisors) opened or moved this conversation, and when.
export default defineEventHandler(async (event) => {
  const viewer = await requireUser(event)
  const id = await validId(event)
  const page = await validQuery(event, AdminListQuery)
  const conversation = await requireConversation(viewer, id, 'read')
  return conversationAccessLog(conversation.id, page)
})
