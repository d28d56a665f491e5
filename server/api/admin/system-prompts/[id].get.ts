import { requireSystemPrompt, toAdminSystemPrompt } from '../../../services/admin-system-prompts'

export default defineEventHandler(async (event) => {
  await requireRole(event, 'admin')
  return toAdminSystemPrompt(await requireSystemPrompt(await validId(event)))
})
