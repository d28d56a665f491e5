import { unreadCount } from '../../services/dms'

export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'messages.use')
  return { count: await unreadCount(viewer.id) }
})
