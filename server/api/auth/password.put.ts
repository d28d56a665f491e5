import { ChangePasswordBody } from '#shared/schemas'
import { audit } from '../../services/audit'
import { confirmPassword, passwordProblem } from '../../services/passwords'
import { revokeUserSessions } from '../../services/sessions'
import { domainAllowed, setPassword } from '../../services/users'

export default defineEventHandler(async (event) => {
  const auth = await requireAuth(event)
  const { currentPassword, newPassword } = await validBody(event, ChangePasswordBody)
  const { user } = auth
  if (user.isDemo) throw createError({ statusCode: 403, message: 'Demo accounts cannot change their password' })
  if (!domainAllowed(useConfig().passwordChangeDomains, user.email))
    throw createError({ statusCode: 403, message: 'Password changes are managed by your administrator' })
  await confirmPassword(event, user, currentPassword, 'currentPassword')
  const problem = passwordProblem(newPassword, user.email)
  if (problem) throw createError({ statusCode: 400, message: `newPassword: ${problem}`, data: { fields: { newPassword: problem } } })
  await setPassword(user.id, newPassword)
  // a Bearer caller has no session to keep: every session ends
  const revoked = await revokeUserSessions(user.id, auth.sessionId ?? undefined)
  await audit(event, 'auth.password_changed', { targetType: 'user', targetId: user.id, meta: { revokedSessions: revoked } })
  setResponseStatus(event, 204)
  return null
})
