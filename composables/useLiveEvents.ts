import type { LiveEventName, LiveEvents } from '#shared/messaging'
import { createSseParser, type SseEvent } from './useChatStream'
import { reconnectDelay } from '~/utils/backoff'

/** The server pings every 25 s: a stream silent for longer than this is dead even if the socket says otherwise. */
const SILENCE_MS = 60_000

// one stream per tab: module state, shared by every caller of useLiveEvents
let controller: AbortController | null = null
let owner: string | null = null
let attempts = 0
let retryTimer: ReturnType<typeof setTimeout> | undefined
let silenceTimer: ReturnType<typeof setTimeout> | undefined
const connected = ref(false)

function dispatch({ event, data }: SseEvent) {
  let payload: unknown
  try { payload = JSON.parse(data) }
  catch { return }
  const name = event as LiveEventName
  if (name === 'unread') useMessagesStore().unreadCount = (payload as LiveEvents['unread']).count
  else if (name === 'dm') useMessagesStore().receive((payload as LiveEvents['dm']).dm)
  else if (name === 'dm-update') useMessagesStore().applyUpdate((payload as LiveEvents['dm-update']).dm)
  else if (name === 'dm-delete') useMessagesStore().applyDelete((payload as LiveEvents['dm-delete']).id)
  else if (name === 'report') {
    const { id, status } = payload as LiveEvents['report']
    useReportsStore().applyLive(id, status)
  }
  else if (name === 'conversation') {
    const { id, title } = payload as LiveEvents['conversation']
    useChatStore().applyTitle(id, title)
  }
}

function scheduleReconnect() {
  clearTimeout(retryTimer)
  if (!owner) return
  retryTimer = setTimeout(() => { if (owner) void connect(owner) }, reconnectDelay(attempts++))
}

function armSilence(stream: AbortController) {
  clearTimeout(silenceTimer)
  silenceTimer = setTimeout(() => stream.abort(), SILENCE_MS)
}

async function connect(userId: string) {
  controller?.abort()
  const stream = new AbortController()
  controller = stream
  try {
    // through the API client: a 401 (the session is gone) signs the user out there, which stops this stream
    const response = await useApi().stream('/api/events', { signal: stream.signal })
    connected.value = true
    attempts = 0
    armSilence(stream)
    const parser = createSseParser(dispatch)
    const reader = response.body!.pipeThrough(new TextDecoderStream()).getReader()
    for (;;) {
      const { value, done } = await reader.read()
      if (done) break
      armSilence(stream)
      parser.push(value)
    }
  }
  catch {}
  finally {
    if (controller === stream) {
      controller = null
      connected.value = false
      clearTimeout(silenceTimer)
      // ended by the server, the network or silence (not by stop()): come back after a pause
      if (owner === userId) scheduleReconnect()
    }
  }
}

/** Opens the tab's stream for `userId` (a no-op when it is already open for them). */
function start(userId: string) {
  if (owner === userId && (controller || retryTimer)) return
  stop()
  owner = userId
  attempts = 0
  void connect(userId)
}

/** Closes the stream for good (sign-out). */
function stop() {
  owner = null
  clearTimeout(retryTimer)
  retryTimer = undefined
  clearTimeout(silenceTimer)
  const stream = controller
  controller = null
  stream?.abort()
  connected.value = false
}

/** The network is back: reconnect now instead of waiting out the back-off. */
function reconnectNow() {
  if (!owner || controller) return
  clearTimeout(retryTimer)
  attempts = 0
  void connect(owner)
}

/**
 * The app's live updates (`GET /api/events`): one stream per tab while someone is signed in, read with fetch
 * and the chat's SSE parser, reconnecting with back-off. `unread` sets the badge, `dm` reaches the open thread,
 * `dm-update`/`dm-delete` change it (edits by either side, my messages being read, deletes from my other tabs),
 * `report` the status chips. The server sends the unread count first, so a reconnect refreshes the badge.
 */
export function useLiveEvents() {
  return { connected: readonly(connected), start, stop, reconnectNow }
}
