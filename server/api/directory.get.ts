import { DirectoryQuery } from '#shared/messaging-schemas'
import { directory } from '../services/dms'

// People the caller may write to: every active user but the caller, searchable by name or email.
export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'messages.use')
  const query = await validQuery(event, DirectoryQuery)
  return directory(viewer, query)
})
