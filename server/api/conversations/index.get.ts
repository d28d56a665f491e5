import { ConversationListQuery } from '#shared/schemas'
import { requireVisibleUser } from '../../services/access'
import { listConversations } from '../../services/conversations'

// Without userId: the caller's own; with it (admin/supervisor): that user's, 404 when out of scope. Searching
// someone else's conversations matches titles only: their message text is read only through audited routes.
export default defineEventHandler(async (event) => {
  const viewer = await requireUser(event)
  const { userId, ...query } = await validQuery(event, ConversationListQuery)
  const owner = userId && userId !== viewer.id ? await requireVisibleUser(viewer, userId, 'conversations', 'userId') : viewer
  return listConversations(owner.id, { ...query, searchMessages: owner.id === viewer.id })
})
