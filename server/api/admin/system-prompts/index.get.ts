import { listAdminSystemPrompts } from '../../../services/admin-system-prompts'

export default defineEventHandler(async (event) => {
  await requireRole(event, 'admin')
  return listAdminSystemPrompts()
})
