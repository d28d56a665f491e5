import { hideDm } from '../../services/dms'

// Deletes from the caller's view only; the other participant keeps their copy.
export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'messages.use')
  const id = await validId(event)
  await hideDm(viewer, id)
  return sendNoContent(event, 204)
})
