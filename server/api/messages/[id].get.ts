import { getDm } from '../../services/dms'

// Sender or recipient; anyone else (admins included) 404.
export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'messages.use')
  const id = await validId(event)
  return getDm(viewer, id)
})
