import { CreateConversationBody } from '#shared/schemas'
import { conversationWithCount, createConversation, resolveSystemPromptId } from '../../services/conversations'
import { getSettings } from '../../services/settings'

export default defineEventHandler(async (event) => {
  const user = await requirePermission(event, 'chat.use')
  const body = await validBody(event, CreateConversationBody)
  await enforceRateLimit(event, `conversations:create:${user.id}`, useConfig().conversationRateLimit, 'Too many new conversations')
  const systemPromptId = await resolveSystemPromptId(body.systemPromptId)
  const { defaultModel } = await getSettings()
  const conversation = await createConversation(user.id, { title: body.title, systemPromptId, model: defaultModel })
  setResponseStatus(event, 201)
  return conversationWithCount(conversation)
})
