import { deleteSystemPrompt, requireSystemPrompt } from '../../../services/admin-system-prompts'
import { audit } from '../../../services/audit'

export default defineEventHandler(async (event) => {
  await requirePermission(event, 'settings.manage')
  const prompt = await requireSystemPrompt(await validId(event))
  const { promoted } = await deleteSystemPrompt(prompt)
  await audit(event, 'admin.system_prompt_deleted', { targetType: 'system_prompt', targetId: prompt.id, meta: { name: prompt.name, promoted } })
  setResponseStatus(event, 204)
  return null
})
