import { ChatBody } from '#shared/schemas'
import { streamChat } from '../services/chat'
import { refuseRepeatedChat } from '../services/client-sends'

// API.md "Chat": plain JSON errors before the stream starts, then text/event-stream.
export default defineEventHandler(async (event) => {
  const user = await requirePermission(event, 'chat.use')
  await enforceRateLimit(event, `chat:${user.id}`, useConfig().chatRateLimit, 'Too many messages')
  const body = await validBody(event, ChatBody)
  await refuseRepeatedChat(user.id, body.clientId)
  await streamChat(event, user, body)
  // the client left before anything was sent
  return event.handled ? undefined : null
})
