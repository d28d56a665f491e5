import { SystemPromptListQuery } from '#shared/admin'
import { listAdminSystemPrompts } from '../../../services/admin-system-prompts'

export default defineEventHandler(async (event) => {
  await requirePermission(event, 'settings.manage')
  return listAdminSystemPrompts(await validQuery(event, SystemPromptListQuery))
})
