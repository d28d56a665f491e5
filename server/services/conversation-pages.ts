import { driverValue, epochDate, epochMs, readRows } from '../db/client'
import type { Conversation } from '../db/schema'

/**
 * A page of one owner's conversations without a search, in hand-written SQL read as positional rows
 * (server/db/row-reader.ts): the sidebar's list and the admin's list of a user's conversations are the most
 * requested reads, and through drizzle's builder and row objects a 51-row page cost ~2 ms of CPU. Only the
 * columns `conversation` (API.md) shows are read, as a plain row: `toApiConversation` (conversations.ts) is the one
 * place that shapes a row for the API.
 */
export type PageRow = Pick<Conversation, 'id' | 'userId' | 'title' | 'model' | 'systemPromptId' | 'pinned' | 'archived' | 'channel' | 'messageCount' | 'createdAt' | 'updatedAt'>

/** `list`: pinned first, then newest (conversations_user_list_idx); `admin`: newest, archived included. */
export type PageOrder = 'list' | 'admin'

const ORDER_COLUMNS: Record<PageOrder, string[]> = { list: ['pinned', 'updated_at', 'id'], admin: ['updated_at', 'id'] }

const texts = new Map<string, string>()

/** The query text of one shape of page (cached: the row reader keys its prepared statements on it). */
function pageText(order: PageOrder, archived: boolean, keyset: boolean) {
  const shape = `${order}:${archived}:${keyset}`
  let text = texts.get(shape)
  if (!text) {
    const columns = ORDER_COLUMNS[order]
    text = `select id, user_id, title, model, system_prompt_id, pinned, archived, channel, message_count, ${epochMs('created_at')}, ${epochMs('updated_at')}`
      + ' from conversations where user_id = ?'
      + (archived ? ' and archived = ?' : '')
      + (keyset ? ` and (${columns.join(', ')}) < (${columns.map(() => '?').join(', ')})` : '')
      + ` order by ${columns.map(c => `${c} desc`).join(', ')} limit ? offset ?`
    texts.set(shape, text)
  }
  return text
}

/** Up to `limit` rows of `ownerId`'s conversations after `key` (the sort key of the previous page's last row) or from `offset`. */
export async function conversationPage(ownerId: string, page: { order: PageOrder, limit: number, offset: number, archived?: boolean, key?: Array<boolean | number | string> }): Promise<PageRow[]> {
  const args: unknown[] = [ownerId]
  if (page.archived !== undefined) args.push(driverValue(page.archived))
  if (page.key) {
    const [updatedAt, id] = page.key.slice(-2) as [number, string]
    if (page.order === 'list') args.push(driverValue(page.key[0] as boolean))
    args.push(driverValue(new Date(updatedAt)), id)
  }
  args.push(page.limit, page.key ? 0 : page.offset)
  const rows = await readRows(pageText(page.order, page.archived !== undefined, !!page.key), args)
  return rows.map(toPageRow)
}

function toPageRow(row: unknown[]): PageRow {
  const [id, userId, title, model, systemPromptId, pinned, archived, channel, messageCount, createdAt, updatedAt] = row as [string, string, string, string, string | null, unknown, unknown, PageRow['channel'], number, number, number]
  return {
    id,
    userId,
    title,
    model,
    systemPromptId,
    pinned: Boolean(pinned),
    archived: Boolean(archived),
    channel,
    messageCount: Number(messageCount),
    createdAt: epochDate(createdAt),
    updatedAt: epochDate(updatedAt),
  }
}

/** How many conversations `ownerId` has (all, or only the archived or unarchived ones), from the owner's row. */
export async function storedTotal(ownerId: string, archived?: boolean) {
  const [row] = await readRows('select conversation_count, archived_conversation_count from users where id = ?', [ownerId])
  if (!row) return 0
  const [all, archivedCount] = row.map(Number) as [number, number]
  return archived === undefined ? all : archived ? archivedCount : all - archivedCount
}
