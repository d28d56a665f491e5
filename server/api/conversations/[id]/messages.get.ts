import { MessagesQuery } from '#shared/schemas'
import { auditConversationRead, requireConversation } from '../../../services/access'
import { pageMessages } from '../../../services/conversations'

// Newest page first; `before` pages back. Reading someone else's messages is audited.
export default defineEventHandler(async (event) => {
  const viewer = await requireUser(event)
  const id = await validId(event)
  const page = await validQuery(event, MessagesQuery)
  const conversation = await requireConversation(viewer, id, 'read')
  const result = await pageMessages(conversation, page)
  await auditConversationRead(event, viewer, conversation)
  return result
})
