import { audit } from '../../services/audit'
import { clearSessionCookie, revokeUserSessions } from '../../services/sessions'
import { revokeUserTokens } from '../../services/tokens'

export default defineEventHandler(async (event) => {
  const { user } = await requireAuth(event, { allowUnenrolled: true, allowPasswordHold: true })
  const [count, tokens] = await Promise.all([revokeUserSessions(user.id), revokeUserTokens(user.id)])
  await audit(event, 'auth.logout_all', { targetType: 'user', targetId: user.id, meta: { sessions: count, tokens } })
  clearSessionCookie(event)
  setResponseStatus(event, 204)
  return null
})
