import { SendDmBody } from '#shared/messaging-schemas'
import { sendDm, serialized } from '../../services/dms'

// Validate first (bad input is not a send), then count against MESSAGE_RATE_LIMIT, then the recipient/thread rules.
export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'messages.use')
  const body = await validBody(event, SendDmBody)
  await serialized(`dm:${viewer.id}`, () => enforceRateLimit(event, `dm:${viewer.id}`, useConfig().messageRateLimit, 'Too many messages'))
  const { repeated, ...dm } = await sendDm(viewer, body)
  // a repeated outbox send (same clientId) created nothing: 200 with the message the first one made
  setResponseStatus(event, repeated ? 200 : 201)
  return dm
})
