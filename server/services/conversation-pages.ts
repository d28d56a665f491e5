import { driverValue, epochDate, epochMs, numberOrNull, readRows } from '../db/client'
import type { Conversation } from '../db/schema'

/**
 * A page of one owner's conversations without a search, in hand-written SQL read as positional rows
 * (server/db/hand-written.ts): the sidebar's list and the admin's list of a user's conversations are the most
 * requested reads, and through drizzle's builder and row objects a 51-row page cost ~2 ms of CPU. Only the
 * columns `conversation` (API.md) shows are read, as a plain row: `toApiConversation` (conversations.ts) is the one
 * place that shapes a row for the API.
 */
export type PageRow = Pick<Conversation, 'id' | 'userId' | 'title' | 'model' | 'systemPromptId' | 'pinned' | 'archived' | 'channel' | 'messageCount' | 'createdAt' | 'updatedAt'>

/** `list`: pinned first, then newest (conversations_user_list_idx); `admin`: newest, archived included. */
export type PageOrder = 'list' | 'admin'

const ORDER_COLUMNS: Record<PageOrder, string[]> = { list: ['pinned', 'updated_at', 'id'], admin: ['updated_at', 'id'] }

const texts = new Map<string, string>()

// the list's total from the owner's row (counts kept by triggers: migration 0008), all or by archived flag
const TOTAL_COLUMN = {
  all: 'conversation_count',
  archived: 'archived_conversation_count',
  unarchived: 'conversation_count - archived_conversation_count',
} as const
type TotalOf = keyof typeof TOTAL_COLUMN
const totalOf = (archived?: boolean): TotalOf => archived === undefined ? 'all' : archived ? 'archived' : 'unarchived'

/**
 * The query text of one shape of page (cached: the row reader keys its prepared statements on it). The total comes
 * in the same statement, as its first column (an uncorrelated subquery: read once): on PostgreSQL each statement is
 * a round trip, and the send to the database was the largest single cost of a list request.
 */
function pageText(order: PageOrder, total: TotalOf, keyset: boolean) {
  const shape = `${order}:${total}:${keyset}`
  let text = texts.get(shape)
  if (!text) {
    const columns = ORDER_COLUMNS[order]
    text = `select (select ${TOTAL_COLUMN[total]} from users where id = ?), id, user_id, title, model, system_prompt_id, pinned, archived, channel, message_count, ${epochMs('created_at')}, ${epochMs('updated_at')}`
      + ' from conversations where user_id = ?'
      + (total !== 'all' ? ' and archived = ?' : '')
      + (keyset ? ` and (${columns.join(', ')}) < (${columns.map(() => '?').join(', ')})` : '')
      + ` order by ${columns.map(c => `${c} desc`).join(', ')} limit ? offset ?`
    texts.set(shape, text)
  }
  return text
}

/**
 * Up to `limit` rows of `ownerId`'s conversations after `key` (the sort key of the previous page's last row) or from
 * `offset`, and the total of the list (all, or only the archived or unarchived ones; null: there is no such owner):
 * one statement, plus a read of the total alone when the page is empty.
 */
export async function conversationPage(ownerId: string, page: { order: PageOrder, limit: number, offset: number, archived?: boolean, key?: Array<boolean | number | string> }): Promise<{ total: number | null, rows: PageRow[] }> {
  const args: unknown[] = [ownerId, ownerId]
  if (page.archived !== undefined) args.push(driverValue(page.archived))
  if (page.key) {
    const [updatedAt, id] = page.key.slice(-2) as [number, string]
    if (page.order === 'list') args.push(driverValue(page.key[0] as boolean))
    args.push(driverValue(new Date(updatedAt)), id)
  }
  args.push(page.limit, page.key ? 0 : page.offset)
  const total = totalOf(page.archived)
  const rows = await readRows(pageText(page.order, total, !!page.key), args)
  if (!rows.length) return { total: await storedTotal(ownerId, total), rows: [] }
  return { total: numberOrNull(rows[0]![0]), rows: rows.map(toPageRow) }
}

function toPageRow(row: unknown[]): PageRow {
  const [, id, userId, title, model, systemPromptId, pinned, archived, channel, messageCount, createdAt, updatedAt] = row as [unknown, string, string, string, string, string | null, unknown, unknown, PageRow['channel'], number, number, number]
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

/** The total alone (`conversationPage` of an empty page): null when the owner does not exist. */
async function storedTotal(ownerId: string, total: TotalOf) {
  const [row] = await readRows(`select ${TOTAL_COLUMN[total]} from users where id = ?`, [ownerId])
  return row ? numberOrNull(row[0]) : null
}
