import { channelStatus } from '../../../services/admin-channels'

/** Admin → Canales: is the SMS channel configured, its last inbound/outbound message, failed sends. */
export default defineEventHandler(async (event) => {
  await requirePermission(event, 'channels.manage')
  return channelStatus()
})
