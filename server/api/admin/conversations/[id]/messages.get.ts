import { AdminMessagesQuery } from '#shared/admin'
import { auditConversationRead, requireConversation } from '../../../../services/access'
import { pageMessages } from '../../../../services/conversations'

export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'conversations.read.team', 'conversations.read.all')
  const id = await validId(event)
  const page = await validQuery(event, AdminMessagesQuery)
  const conversation = await requireConversation(viewer, id, 'read')
  const result = await pageMessages(conversation, page)
  await auditConversationRead(event, viewer, conversation)
  return result
})
