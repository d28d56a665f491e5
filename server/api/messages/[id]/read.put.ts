import { markDmRead } from '../../../services/dms'

// The recipient marks a message read; idempotent (the first readAt stays). The sender gets 403.
export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'messages.use')
  const id = await validId(event)
  await noBody(event)
  return markDmRead(viewer, id)
})
