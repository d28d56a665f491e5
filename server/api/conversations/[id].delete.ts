import { requireConversation } from '../../services/access'
import { audit } from '../../services/audit'
import { deleteConversation } from '../../services/conversations'

// The owner or an admin; an admin deleting someone else's conversation is audited.
export default defineEventHandler(async (event) => {
  const viewer = await requireUser(event)
  const id = await validId(event)
  const conversation = await requireConversation(viewer, id, 'delete')
  // two deletes at once both pass the check above; the one that finds nothing left answers as a second delete would
  if (!(await deleteConversation(conversation.id))) throw createError({ statusCode: 404, message: 'Conversation not found' })
  if (conversation.userId !== viewer.id)
    await audit(event, 'conversation.deleted', { actorId: viewer.id, targetType: 'conversation', targetId: conversation.id, meta: { ownerId: conversation.userId } })
  return sendNoContent(event, 204)
})
