import { requireConversation } from '../../services/access'
import { conversationWithCount } from '../../services/conversations'

export default defineEventHandler(async (event) => {
  const viewer = await requireUser(event)
  const id = await validId(event)
  return conversationWithCount(await requireConversation(viewer, id, 'read'))
})
