import { listSessions } from '../../../services/sessions'

export default defineEventHandler(async (event) => {
  const auth = await requireAuth(event, { allowUnenrolled: true })
  const rows = await listSessions(auth.user.id)
  return {
    data: rows.map(s => ({
      id: s.id,
      ip: s.ip,
      userAgent: s.userAgent,
      createdAt: s.createdAt,
      lastSeenAt: s.lastSeenAt,
      current: s.id === auth.sessionId,
    })),
  }
})
