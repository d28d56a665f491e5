import { SettingsUpdate, updateSettings } from '../../services/admin-settings'
import { audit } from '../../services/audit'

export default defineEventHandler(async (event) => {
  await requirePermission(event, 'settings.manage')
  const changes = await validBody(event, SettingsUpdate)
  const { settings, changed } = await updateSettings(changes)
  if (changed.length) await audit(event, 'admin.settings_updated', { targetType: 'settings', meta: Object.fromEntries(changed.map(key => [key, settings[key]])) })
  return settings
})
