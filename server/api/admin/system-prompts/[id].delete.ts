import { deleteSystemPrompt } from '../../../services/admin-system-prompts'
import { audit } from '../../../services/audit'

export default defineEventHandler(async (event) => {
  await requirePermission(event, 'settings.manage')
  const id = await validId(event)
  const { name, promoted } = await deleteSystemPrompt(id)
  await audit(event, 'admin.system_prompt_deleted', { targetType: 'system_prompt', targetId: id, meta: { name, promoted } })
  setResponseStatus(event, 204)
  return null
})
