import { audit } from '../../../services/audit'
import { clearSessionCookie, revokeSession } from '../../../services/sessions'

export default defineEventHandler(async (event) => {
  const auth = await requireAuth(event, { allowUnenrolled: true })
  const id = await validId(event)
  if (!(await revokeSession(auth.user.id, id))) throw createError({ statusCode: 404, message: 'Session not found' })
  await audit(event, 'auth.session_revoked', { targetType: 'session', targetId: id })
  if (id === auth.sessionId) clearSessionCookie(event)
  setResponseStatus(event, 204)
  return null
})
