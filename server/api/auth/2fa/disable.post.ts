import { Disable2faBody } from '#shared/schemas'
import { audit } from '../../../services/audit'
import { confirmPassword } from '../../../services/passwords'
import { consumeSecondFactor, disableTotp } from '../../../services/totp'
import { assertTotpSelfService } from '../../../services/users'

export default defineEventHandler(async (event) => {
  const user = await requireUser(event)
  const { password, code } = await validBody(event, Disable2faBody)
  assertTotpSelfService(user, 'disable')
  if (useConfig().require2faRoles.includes(user.role))
    throw createError({ statusCode: 403, message: 'Two-factor authentication is required for your role' })
  if (!user.totpEnabled) throw createError({ statusCode: 409, message: 'Two-factor authentication is not enabled' })
  await confirmPassword(event, user, password)
  await enforceRateLimit(event, `2fa:disable:${user.id}`, { max: 10, windowMs: 15 * 60_000 })
  if (!(await consumeSecondFactor(user, code))) throw fieldError('code', 'is wrong or expired')
  await disableTotp(user.id)
  await audit(event, 'auth.2fa_disabled', { targetType: 'user', targetId: user.id })
  setResponseStatus(event, 204)
  return null
})
