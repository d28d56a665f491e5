import { SystemPromptBody } from '#shared/admin'
import { createSystemPrompt, toAdminSystemPrompt } from '../../../services/admin-system-prompts'
import { audit } from '../../../services/audit'

export default defineEventHandler(async (event) => {
  await requirePermission(event, 'settings.manage')
  const body = await validBody(event, SystemPromptBody)
  const prompt = await createSystemPrompt(body)
  await audit(event, 'admin.system_prompt_created', { targetType: 'system_prompt', targetId: prompt.id, meta: { name: prompt.name, isDefault: prompt.isDefault } })
  setResponseStatus(event, 201)
  return toAdminSystemPrompt(prompt)
})
