import { audit } from '../../services/audit'
import { clearSessionCookie, revokeUserSessions } from '../../services/sessions'

export default defineEventHandler(async (event) => {
  const { user } = await requireAuth(event, { allowUnenrolled: true })
  const count = await revokeUserSessions(user.id)
  await audit(event, 'auth.logout_all', { targetType: 'user', targetId: user.id, meta: { sessions: count } })
  clearSessionCookie(event)
  setResponseStatus(event, 204)
  return null
})
