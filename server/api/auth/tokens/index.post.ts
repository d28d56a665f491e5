import { CreateTokenBody } from '#shared/schemas'
import { audit } from '../../../services/audit'
import { confirmPassword } from '../../../services/passwords'
import { createToken } from '../../../services/tokens'

export default defineEventHandler(async (event) => {
  const user = await requireUser(event)
  const body = await validBody(event, CreateTokenBody)
  await confirmPassword(event, user, body.password)
  const created = await createToken(user.id, body.name, body.expiresInDays)
  await audit(event, 'auth.token_created', { targetType: 'api_token', targetId: created.id, meta: { name: body.name } })
  setResponseStatus(event, 201)
  return created
})
