import { UpdateConversationBody } from '#shared/schemas'
import { requireConversation } from '../../services/access'
import { conversationWithCount, updateConversation } from '../../services/conversations'

// Owner only: rename, pin, archive. updatedAt is left alone so the list keeps its order of activity.
export default defineEventHandler(async (event) => {
  const viewer = await requireUser(event)
  const id = await validId(event)
  const change = await validBody(event, UpdateConversationBody)
  await requireConversation(viewer, id, 'write')
  return conversationWithCount(await updateConversation(id, change))
})
