import { retryFailedSend } from '../../../../../services/admin-channels'
import { audit } from '../../../../../services/audit'

/** Sends a failed reply again (its parts already accepted by Twilio are not sent twice). */
export default defineEventHandler(async (event) => {
  await requirePermission(event, 'channels.manage')
  const id = await validId(event)
  await noBody(event)
  const send = await retryFailedSend(id)
  await audit(event, 'admin.channel_send_retry', { targetType: 'job', targetId: id, meta: { channel: send.channel } })
  return { send }
})
