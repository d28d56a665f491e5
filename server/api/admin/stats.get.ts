import { StatsQuery } from '#shared/admin'
import { usageStats } from '../../services/admin-stats'

export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'conversations.read.team', 'conversations.read.all')
  const { days } = await validQuery(event, StatsQuery)
  return usageStats(viewer, days)
})
