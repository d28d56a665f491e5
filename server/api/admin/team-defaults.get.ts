import { getTeamDefaults } from '../../services/team'

export default defineEventHandler(async (event) => {
  await requirePermission(event, 'users.manage')
  return getTeamDefaults()
})
