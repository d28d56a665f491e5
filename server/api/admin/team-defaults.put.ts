import { audit } from '../../services/audit'
import { saveTeamDefaults, TeamDefaultsBody } from '../../services/team'

/** The default supervisor of new sign-ups, per email domain. */
export default defineEventHandler(async (event) => {
  await requirePermission(event, 'users.manage')
  const body = await validBody(event, TeamDefaultsBody)
  const saved = await saveTeamDefaults(body)
  await audit(event, 'admin.team_defaults_changed', { targetType: 'settings', meta: saved })
  return saved
})
