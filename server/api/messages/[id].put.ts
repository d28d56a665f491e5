import { EditDmBody } from '#shared/messaging-schemas'
import { editDm } from '../../services/dms'

// The sender edits (editedAt is set); the recipient gets 403.
export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'messages.use')
  const id = await validId(event)
  const { content } = await validBody(event, EditDmBody)
  return editDm(viewer, id, content)
})
