import { getSettings } from '../../services/settings'

export default defineEventHandler(async (event) => {
  await requirePermission(event, 'settings.manage')
  return getSettings()
})
