import { markAllDmsRead } from '../../services/dms'

// A static route: it wins over messages/[id].put.ts.
export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'messages.use')
  await noBody(event)
  return markAllDmsRead(viewer)
})
