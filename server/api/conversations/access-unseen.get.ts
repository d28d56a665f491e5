import { unseenAccess } from '../../services/access-seen'

// The caller's own conversations that someone opened since the caller last looked at their access log.
export default defineEventHandler(async (event) => {
  const viewer = await requireUser(event)
  return { data: await unseenAccess(viewer.id) }
})
