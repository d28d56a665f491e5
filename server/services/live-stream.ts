import type { H3Event } from 'h3'
import { and, eq, gt, isNull, or } from 'drizzle-orm'
import type { LiveEventName, LiveEvents } from '#shared/messaging'
import { useDb } from '../db/client'
import { apiTokens, sessions, users } from '../db/schema'
import type { Auth } from '../utils/auth'
import { can, canSeeUser, type Viewer } from './access'
import { unreadCount } from './dms'
import { type BusMessage, REPORTS_TOPIC, useEventBus, userTopic } from './events'
import { asViewer } from './roles'
import { onStopping } from './shutdown'

/**
 * `GET /api/events`: one text/event-stream per open tab (API.md "Live events"). Written straight to the Node
 * response because h3's EventStream cannot send `: ping` comment lines. The caller's sign-in is re-checked
 * every `EVENTS_RECHECK_MS` (10 s), so a revoked session, a deleted token or a deactivated user ends the stream within 30 s.
 */


const open = new Set<() => void>()
let sigtermHooked = false

/** Streams never end by themselves: at SIGTERM they are closed at once so shutdown need not wait for them. */
function hookShutdown() {
  if (sigtermHooked) return
  sigtermHooked = true
  onStopping(() => { for (const close of [...open]) close() })
}

/** Whether the sign-in behind this stream still stands; the fresh user when it does. */
async function stillSignedIn(auth: Auth) {
  const now = new Date()
  if (auth.sessionId) {
    const [row] = await useDb().select({ user: users }).from(sessions).innerJoin(users, eq(users.id, sessions.userId))
      .where(and(eq(sessions.id, auth.sessionId), isNull(sessions.revokedAt), gt(sessions.expiresAt, now))).limit(1)
    return row?.user.active ? row.user : null
  }
  if (auth.tokenId) {
    const [row] = await useDb().select({ user: users }).from(apiTokens).innerJoin(users, eq(users.id, apiTokens.userId))
      .where(and(eq(apiTokens.id, auth.tokenId), or(isNull(apiTokens.expiresAt), gt(apiTokens.expiresAt, now)))).limit(1)
    return row?.user.active ? row.user : null
  }
  return null
}

export async function serveLiveEvents(event: H3Event, auth: Auth) {
  const res = event.node.res
  const me = auth.user.id
  let viewer: Viewer = auth.user
  let ready = false
  const early: BusMessage[] = []
  let sentCount: number | undefined
  let counting = false
  let recount = false

  const write = (chunk: string) => { if (!res.destroyed && !res.writableEnded) res.write(chunk) }
  const send = <K extends LiveEventName>(name: K, data: LiveEvents[K]) => write(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`)
  const deliver = (message: BusMessage) => {
    if (!ready) return early.push(message)
    if (message.event === 'unread-changed') return void refreshUnread()
    if (message.event === 'batch') return message.messages.forEach(deliver)
    send(message.event, message.data as never)
  }
  /** Counts again after every change, one query at a time; the last count always follows the last change. */
  async function refreshUnread() {
    if (counting) return void (recount = true)
    counting = true
    try {
      do {
        recount = false
        const count = await unreadCount(me)
        if (count !== sentCount) send('unread', { count: sentCount = count })
      } while (recount)
    }
    catch {}
    finally { counting = false }
  }

  const bus = useEventBus()
  const unsubscribe = [
    bus.subscribe(userTopic(me), deliver),
    // staff hear about reports in their scope; their own reports already come on their user topic
    bus.subscribe(REPORTS_TOPIC, (message) => {
      if (!('reporterId' in message) || !message.reporterId || message.reporterId === me || !can(viewer, 'reports.manage')) return
      void canSeeUser(viewer, message.reporterId, 'reports').then(ok => ok && deliver(message), () => {})
    }),
  ]

  res.statusCode = 200
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8')
  res.setHeader('Cache-Control', 'no-cache, no-store, no-transform')
  res.setHeader('X-Accel-Buffering', 'no')
  res.setHeader('Connection', 'keep-alive')
  res.flushHeaders()

  let resolveClosed!: () => void
  const closed = new Promise<void>((resolve) => { resolveClosed = resolve })
  const { eventsPingMs, eventsRecheckMs } = useConfig()
  const ping = setInterval(() => write(': ping\n\n'), eventsPingMs)
  const recheck = setInterval(async () => {
    try {
      const user = await stillSignedIn(auth)
      if (!user) return close()
      viewer = await asViewer(user)
    }
    catch {}
  }, eventsRecheckMs + Math.floor(Math.random() * Math.min(1000, eventsRecheckMs / 10)))
  function close() {
    clearInterval(ping)
    clearInterval(recheck)
    for (const off of unsubscribe) off()
    open.delete(close)
    if (!res.writableEnded) res.end()
    resolveClosed()
  }
  open.add(close)
  hookShutdown()
  res.on('close', close)

  // the first event is always the unread count; anything published meanwhile follows it
  await bus.ready()
  const count = await unreadCount(me)
  send('unread', { count: sentCount = count })
  ready = true
  for (const message of early.splice(0)) deliver(message)
  await closed
}
