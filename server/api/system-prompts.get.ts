import { listSystemPrompts } from '../services/system-prompts'

// Any signed-in user picks a prompt by name; the content stays with the admins.
export default defineEventHandler(async (event) => {
  await requireUser(event)
  const rows = await listSystemPrompts()
  return { data: rows.map(p => ({ id: p.id, name: p.name, isDefault: p.isDefault })) }
})
