import { audit } from '../../services/audit'
import { clearSessionCookie, revokeSession } from '../../services/sessions'

export default defineEventHandler(async (event) => {
  const auth = await getAuth(event)
  if (auth?.sessionId) {
    await revokeSession(auth.user.id, auth.sessionId)
    await audit(event, 'auth.logout', { targetType: 'session', targetId: auth.sessionId })
  }
  clearSessionCookie(event)
  setResponseStatus(event, 204)
  return null
})
