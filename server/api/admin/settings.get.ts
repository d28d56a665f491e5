import { getSettings } from '../../services/settings'

export default defineEventHandler(async (event) => {
  await requireRole(event, 'admin')
  return getSettings()
})
