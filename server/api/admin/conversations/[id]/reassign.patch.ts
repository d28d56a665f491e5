import { ReassignBody } from '#shared/admin'
import { requireConversation } from '../../../../services/access'
import { reassignConversation } from '../../../../services/admin-conversations'
import { conversationWithCount } from '../../../../services/conversations'

export default defineEventHandler(async (event) => {
  const actor = await requirePermission(event, 'conversations.reassign')
  const id = await validId(event)
  const { targetUserId } = await validBody(event, ReassignBody)
  const conversation = await requireConversation(actor, id, 'read')
  const moved = await reassignConversation(event, actor, conversation, targetUserId)
  return { message: 'Conversation reassigned', data: await conversationWithCount(moved) }
})
