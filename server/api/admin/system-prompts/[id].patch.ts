import { SystemPromptPatch } from '#shared/admin'
import { requireSystemPrompt, toAdminSystemPrompt, updateSystemPrompt } from '../../../services/admin-system-prompts'
import { audit } from '../../../services/audit'

export default defineEventHandler(async (event) => {
  await requirePermission(event, 'settings.manage')
  const id = await validId(event)
  const changes = await validBody(event, SystemPromptPatch)
  const prompt = await updateSystemPrompt(await requireSystemPrompt(id), changes)
  await audit(event, 'admin.system_prompt_updated', { targetType: 'system_prompt', targetId: id, meta: { fields: Object.keys(changes) } })
  return toAdminSystemPrompt(prompt)
})
