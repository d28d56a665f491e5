import { ChangePasswordBody } from '#shared/schemas'
import { audit } from '../../services/audit'
import { assertPasswordAllowed, confirmPassword } from '../../services/passwords'
import { revokeUserSessions } from '../../services/sessions'
import { revokeUserTokens } from '../../services/tokens'
import { domainAllowed, setPassword } from '../../services/users'

export default defineEventHandler(async (event) => {
  // the way out of a temporary password: it passes the 2FA enrolment hold only then (enrolment comes next)
  const temporary = !!(await getAuth(event))?.user.mustChangePassword
  const auth = await requireAuth(event, { allowUnenrolled: temporary, allowPasswordHold: true })
  const { currentPassword, newPassword } = await validBody(event, ChangePasswordBody)
  const { user } = auth
  if (user.isDemo) throw createError({ statusCode: 403, message: 'Demo accounts cannot change their password' })
  if (!domainAllowed(useConfig().passwordChangeDomains, user.email))
    throw createError({ statusCode: 403, message: 'Password changes are managed by your administrator' })
  await confirmPassword(event, user, currentPassword, 'currentPassword')
  assertPasswordAllowed('newPassword', newPassword, user.email)
  await setPassword(user.id, newPassword)
  // a Bearer caller has no session to keep: every session ends
  const [revoked, revokedTokens] = await Promise.all([revokeUserSessions(user.id, auth.sessionId ?? undefined), revokeUserTokens(user.id)])
  await audit(event, 'auth.password_changed', { targetType: 'user', targetId: user.id, meta: { revokedSessions: revoked, revokedTokens } })
  setResponseStatus(event, 204)
  return null
})
