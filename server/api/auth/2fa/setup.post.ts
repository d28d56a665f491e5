import { PasswordBody } from '#shared/schemas'
import { audit } from '../../../services/audit'
import { confirmPassword } from '../../../services/passwords'
import { beginTotpSetup } from '../../../services/totp'
import { assertTotpSelfService } from '../../../services/users'

export default defineEventHandler(async (event) => {
  const user = await requireUser(event, { allowUnenrolled: true })
  const { password } = await validBody(event, PasswordBody)
  assertTotpSelfService(user)
  if (user.totpEnabled) throw createError({ statusCode: 409, message: 'Two-factor authentication is already enabled; disable it first' })
  await confirmPassword(event, user, password)
  const setup = await beginTotpSetup(user)
  await audit(event, 'auth.2fa_setup', { targetType: 'user', targetId: user.id })
  return setup
})
