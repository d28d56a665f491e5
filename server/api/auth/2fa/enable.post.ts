import { CodeBody } from '#shared/schemas'
import { audit } from '../../../services/audit'
import { checkTotp, enableTotp } from '../../../services/totp'
import { assertTotpSelfService } from '../../../services/users'

export default defineEventHandler(async (event) => {
  const user = await requireUser(event, { allowUnenrolled: true })
  const { code } = await validBody(event, CodeBody)
  assertTotpSelfService(user)
  if (user.totpEnabled) throw createError({ statusCode: 409, message: 'Two-factor authentication is already enabled' })
  if (!user.totpSecret) throw fieldError('code', 'start the setup first')
  await enforceRateLimit(event, `2fa:enable:${user.id}`, { max: 10, windowMs: 15 * 60_000 })
  if (!(await checkTotp(user, code))) throw fieldError('code', 'is wrong or expired')
  const recoveryCodes = await enableTotp(user)
  await audit(event, 'auth.2fa_enabled', { targetType: 'user', targetId: user.id })
  return { recoveryCodes }
})
