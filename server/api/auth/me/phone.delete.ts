import { removePhone } from '../../../services/account'
import { audit } from '../../../services/audit'

export default defineEventHandler(async (event) => {
  const user = await requireUser(event)
  await removePhone(user)
  await audit(event, 'auth.phone_removed', { targetType: 'user', targetId: user.id })
  setResponseStatus(event, 204)
  return null
})
