import { DmListQuery } from '#shared/messaging-schemas'
import { listDms } from '../../services/dms'

// Only messages the caller sent or received and has not deleted, newest first.
export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'messages.use')
  const query = await validQuery(event, DmListQuery)
  return listDms(viewer, query)
})
