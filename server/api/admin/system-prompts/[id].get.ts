import { requireSystemPrompt, toAdminSystemPrompt } from '../../../services/admin-system-prompts'

export default defineEventHandler(async (event) => {
  await requirePermission(event, 'settings.manage')
  return toAdminSystemPrompt(await requireSystemPrompt(await validId(event)))
})
