import type { OfflineKey, OfflineKeyValue } from './idb'

/** What an outbox item becomes once sent: a chat message (the default), a message to a person, or a report. */
export type OutboxKind = 'chat' | 'dm' | 'report'

/** A message typed while the server could not be reached, waiting to be sent. */
export interface OutboxItem {
  /** Absent on chat messages (items saved before there were other kinds). */
  kind?: OutboxKind
  /** Sorts in the order the messages were typed (it is the last key part). */
  id: string
  /** null: a message for a new conversation that does not exist yet (see `thread`). */
  conversationId: string | null
  /** Messages typed into the same new conversation share this; once the first is sent, the rest follow it there. */
  thread?: string
  message: string
  model?: string
  systemPromptId?: string
  /** dm: to whom, their name (shown while it waits), and the message it answers. */
  recipientId?: string
  recipientName?: string
  parentId?: string
  /** report: its title (`message` is its description). */
  title?: string
  createdAt: string
  /**
   * Sent with the message: a send repeated because the first one's answer never arrived (the app closed, the network
   * dropped) is then not saved twice (server/services/client-sends.ts). Absent on items saved before it existed, and
   * where the browser has no `crypto.randomUUID` (a page not served over HTTPS or from localhost).
   */
  clientId?: string
  /** Why the last attempt did not get through (shown next to the message; it is tried again). */
  failed?: string
}

export type OutboxInput = Pick<OutboxItem, 'kind' | 'conversationId' | 'thread' | 'message' | 'model' | 'systemPromptId' | 'recipientId' | 'recipientName' | 'parentId' | 'title'>

export const outboxKind = (item: Pick<OutboxItem, 'kind'>): OutboxKind => item.kind ?? 'chat'

let sequence = 0
/** A new outbox item; ids are a zero-padded time plus a counter, so key order is typing order. */
export function newOutboxItem(input: OutboxInput, now = Date.now()): OutboxItem {
  const id = `${now.toString().padStart(15, '0')}-${(sequence++ % 1e6).toString().padStart(6, '0')}`
  const clientId = globalThis.crypto?.randomUUID?.()
  return { ...input, id, createdAt: new Date(now).toISOString(), ...(clientId ? { clientId } : {}) }
}

/** One user's outbox in the offline database: typed text survives reloads until it is sent or cancelled. */
export function createOutbox(db: OfflineKeyValue, userId: string) {
  const key = (id: string): OfflineKey => [userId, 'outbox', id]
  /** Oldest first. */
  const list = async () => (await db.entries<OutboxItem>([userId, 'outbox'])).map(([, item]) => item)
  return {
    list,
    put: (item: OutboxItem) => db.set(key(item.id), item),
    remove: (id: string) => db.delMany([key(id)]),
  }
}

export type Outbox = ReturnType<typeof createOutbox>
