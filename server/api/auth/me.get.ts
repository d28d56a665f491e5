import { toApiUser } from '../../services/users'

export default defineEventHandler(async (event) => {
  const { user } = await requireAuth(event, { allowUnenrolled: true, allowPasswordHold: true })
  return toApiUser(user)
})
