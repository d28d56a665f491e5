import { requireConversation } from '../../../../services/access'
import { markAccessSeen } from '../../../../services/access-seen'

// The owner has looked at who opened the conversation: clears its dot. Others who may read it → 403, else 404.
export default defineEventHandler(async (event) => {
  const viewer = await requireUser(event)
  const id = await validId(event)
  await noBody(event)
  await requireConversation(viewer, id, 'write')
  await markAccessSeen(id)
  setResponseStatus(event, 204)
  return null
})
