import { audit } from '../../../services/audit'
import { deleteToken } from '../../../services/tokens'

export default defineEventHandler(async (event) => {
  const user = await requireUser(event)
  const id = await validId(event)
  if (!(await deleteToken(user.id, id))) throw createError({ statusCode: 404, message: 'Token not found' })
  await audit(event, 'auth.token_revoked', { targetType: 'api_token', targetId: id })
  setResponseStatus(event, 204)
  return null
})
