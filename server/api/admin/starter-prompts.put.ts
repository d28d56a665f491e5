import { StarterPromptsBody } from '#shared/starter-prompts'
import { audit } from '../../services/audit'
import { saveStarterPrompts } from '../../services/starter-prompts'

// Admin → Prompts: the company's starter prompts for the empty chat (replaces the whole list).
export default defineEventHandler(async (event) => {
  await requirePermission(event, 'settings.manage')
  const { prompts } = await validBody(event, StarterPromptsBody)
  const data = await saveStarterPrompts(prompts)
  await audit(event, 'admin.settings_updated', { targetType: 'settings', meta: { starterPrompts: data.length } })
  return { data }
})
