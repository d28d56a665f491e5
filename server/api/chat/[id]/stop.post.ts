import { requireConversation } from '../../../services/access'
import { stopAnswer } from '../../../services/coordination'

// API.md "Chat": the owner stops the answer being generated in a conversation, on whichever app process it runs.
// 204 whether an answer was running or not (stopping twice is harmless); 404 out of scope, 403 not the owner.
export default defineEventHandler(async (event) => {
  const user = await requirePermission(event, 'chat.use')
  const id = await validId(event)
  await noBody(event)
  const conversation = await requireConversation(user, id, 'write')
  await stopAnswer(conversation.id)
  return sendNoContent(event, 204)
})
