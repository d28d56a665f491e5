import { SystemPromptPatch } from '#shared/admin'
import { toAdminSystemPrompt, updateSystemPrompt } from '../../../services/admin-system-prompts'
import { audit } from '../../../services/audit'

export default defineEventHandler(async (event) => {
  await requirePermission(event, 'settings.manage')
  const id = await validId(event)
  const changes = await validBody(event, SystemPromptPatch)
  const prompt = await updateSystemPrompt(id, changes)
  await audit(event, 'admin.system_prompt_updated', { targetType: 'system_prompt', targetId: id, meta: { fields: Object.keys(changes) } })
  return toAdminSystemPrompt(prompt)
})
