import { serveLiveEvents } from '../services/live-stream'

// One text/event-stream per open tab: unread, dm and report events, `: ping` every 25 s.
export default defineEventHandler(async (event) => {
  const auth = await requireAuth(event)
  await serveLiveEvents(event, auth)
})
