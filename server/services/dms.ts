import { and, count, desc, eq, exists, getTableColumns, isNull, lt, lte, ne, notExists, or, type SQL, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import type { ApiDirectoryEntry, ApiDm, ApiPersonRef, DmBox } from '#shared/messaging'
import type { ApiList } from '#shared/types'
import { referenceGone, useDb } from '../db/client'
import { groupCommit } from '../db/group-commit'
import { dialect, dmHidden, type Dm, dms, users } from '../db/schema'
import type { Viewer } from './access'
import { clientSendWrite, earlierSend } from './client-sends'
import { plainFolded, plainPattern } from './search'
import { publish, publishAll, publishUnreadChanged, userTopic } from './events'
import { namesOf, personRef } from './people'

/**
 * Messages between people (API.md "Messages between people"). Private to their two participants: every query
 * here is limited to rows the caller sent or received, so no permission reaches other people's messages.
 * Deleting hides a message for the caller only (`dm_hidden`); a hidden message is gone for them (404).
 */

export function toApiDm(dm: Dm, names: Map<string, string>): ApiDm {
  return {
    id: dm.id,
    senderId: dm.senderId,
    recipientId: dm.recipientId,
    sender: personRef(dm.senderId, names),
    recipient: personRef(dm.recipientId, names),
    content: dm.content,
    parentId: dm.parentId,
    threadId: dm.threadId,
    read: dm.readAt !== null,
    readAt: dm.readAt?.toISOString() ?? null,
    editedAt: dm.editedAt?.toISOString() ?? null,
    createdAt: dm.createdAt.toISOString(),
  }
}

async function shaped(rows: Dm[]) {
  const names = await namesOf(rows.flatMap(r => [r.senderId, r.recipientId]))
  return rows.map(r => toApiDm(r, names))
}

// correlated subquery: drizzle leaves the outer columns unqualified, so name them in full
const notHiddenFor = (userId: string) => notExists(
  useDb().select({ one: sql`1` }).from(dmHidden)
    .where(and(eq(dmHidden.userId, userId), sql`${sql.identifier('dm_hidden')}.${sql.identifier('dm_id')} = ${sql.identifier('dms')}.${sql.identifier('id')}`)),
)

const unreadFor = (userId: string) => and(eq(dms.recipientId, userId), isNull(dms.readAt), notHiddenFor(userId))

const notFound = () => createError({ statusCode: 404, message: 'Message not found' })
const badRecipient = (why: string) => fieldError('recipientId', why)
// a 404 about a body field names it, as every field error does (docs/api.md "Errors")
const noParent = () => fieldError('parentId', 'no message with this id', 404)

/** `GET /api/directory`: active people the caller may write to (everyone active but the caller). */
export async function directory(viewer: Viewer, query: { q?: string, limit: number, offset: number }): Promise<ApiList<ApiDirectoryEntry>> {
  const filters: SQL[] = [eq(users.active, true), ne(users.id, viewer.id)]
  if (query.q) {
    const pattern = plainPattern(query.q)
    filters.push(sql`(${plainFolded(users.fullName)} like ${pattern} escape '\\' or ${users.email} like ${pattern} escape '\\')`)
  }
  const where = and(...filters)
  const [{ total }] = await useDb().select({ total: count() }).from(users).where(where) as [{ total: number }]
  const rows = await useDb().select({ id: users.id, fullName: users.fullName, email: users.email, role: users.role })
    .from(users).where(where).orderBy(plainFolded(users.fullName), users.id).limit(query.limit).offset(query.offset)
  return { total: Number(total), data: rows }
}

export interface DmQuery { box: DmBox, unread?: boolean, with?: string, before?: string, limit: number, offset: number }

/** A page of `GET /api/messages`: the list plus the cursor of the next page (null on the last one). */
export type DmPage = ApiList<ApiDm> & { nextCursor: string | null }

/** `GET /api/messages`: newest first, only what the caller sent or received and has not deleted. */
export async function listDms(viewer: Viewer, query: DmQuery): Promise<DmPage> {
  const me = viewer.id
  const older = query.before ? await olderThan(me, query.before) : undefined
  const filters: Array<SQL | undefined> = []
  if (query.box === 'received' || query.unread) filters.push(eq(dms.recipientId, me))
  if (query.box === 'sent') filters.push(eq(dms.senderId, me))
  if (query.unread) filters.push(isNull(dms.readAt))
  // "all" and "with" are two index walks (sent, received) merged: an OR across the two columns sorts every message
  let sides: SQL[]
  if (query.with) {
    // walk the other person's index entries: the caller's own are the long list
    const sent = and(eq(mine(dms.senderId), me), eq(dms.recipientId, query.with), ...filters)!
    const received = and(eq(mine(dms.recipientId), me), eq(dms.senderId, query.with), ...filters)!
    sides = query.box === 'sent' ? [sent] : query.box === 'received' || query.unread ? [received] : [sent, received]
  }
  else sides = filters.length ? [and(...filters)!] : [eq(dms.senderId, me), eq(dms.recipientId, me)]
  const countAll = async (): Promise<number> => {
    const n = await boxTotal(me, query)
    if (n != null) return n
    const parts = await Promise.all(sides.map(side => visibleCount(me, side)))
    return parts.reduce((a, b) => a + b, 0)
  }
  const [total, pages] = await Promise.all([
    countAll(),
    Promise.all(sides.map(side => useDb().select().from(dms).where(and(side, older, notHiddenFor(me)))
      .orderBy(desc(dms.createdAt), desc(dms.id)).limit(query.offset + query.limit))),
  ])
  const merged = pages.flat().sort(newestFirst)
  const rows = merged.slice(query.offset, query.offset + query.limit)
  // a full page may be the last one: the next request then answers an empty page with a null cursor
  const nextCursor = rows.length === query.limit ? rows.at(-1)!.id : null
  return { total, data: await shaped(rows), nextCursor }
}

/**
 * The keyset condition of `?before=ID`: messages older than that one in the list's order (createdAt, id).
 * The cursor must be a message the caller sent or received (deleted from their view is fine: it may be the
 * last of a page they deleted since); anything else 404.
 */
async function olderThan(me: string, before: string): Promise<SQL> {
  const [cursor] = await useDb().select({ createdAt: dms.createdAt }).from(dms)
    .where(and(eq(dms.id, before), or(eq(dms.senderId, me), eq(dms.recipientId, me)))).limit(1)
  if (!cursor) throw fieldError('before', 'no message with this id', 404)
  // `created_at <= c` first: a range on the (…, created_at) indexes; a bare OR made SQLite merge two index
  // searches and sort every older message (590 ms → 0.9 ms for a page deep in a 100k mailbox, same rows)
  return and(lte(dms.createdAt, cursor.createdAt), or(lt(dms.createdAt, cursor.createdAt), lt(dms.id, before)))!
}

/** The caller's own id column, kept away from SQLite's index choice (`+col`): its list is the long one. */
const mine = (column: typeof dms.senderId | typeof dms.recipientId): SQL => dialect === 'sqlite' ? sql`+${column}` : sql`${column}`

const newestFirst = (a: Dm, b: Dm) => b.createdAt.getTime() - a.createdAt.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0)

/**
 * How many messages matching `where` the user still sees: all of them (an index count) minus the ones they hid
 * (a short walk of their own `dm_hidden` rows) — cheaper than testing every message for a hidden row.
 */
async function visibleCount(userId: string, where: SQL) {
  const hiddenOne = useDb().select({ one: sql`1` }).from(dms)
    .where(and(where, sql`${sql.identifier('dms')}.${sql.identifier('id')} = ${sql.identifier('dm_hidden')}.${sql.identifier('dm_id')}`))
  const [[all], [hidden]] = await Promise.all([
    useDb().select({ n: count() }).from(dms).where(where),
    // driven from the user's few dm_hidden rows (a join lets the planner walk every message instead)
    useDb().select({ n: count() }).from(dmHidden).where(and(eq(dmHidden.userId, userId), exists(hiddenOne))),
  ]) as [[{ n: number }], [{ n: number }]]
  return Number(all.n) - Number(hidden.n)
}

/**
 * The total of a whole box (no `with`) from index counts only: the box's messages minus the caller's hidden rows
 * of that box, which carry their side (`received`) and unread state from when they were hidden. `undefined` for
 * the narrower lists (`with=`, sent + unread), which count with the join.
 */
async function boxTotal(me: string, query: DmQuery): Promise<number | undefined> {
  if (query.with) return undefined
  if (query.unread) return query.box === 'sent' ? undefined : unreadCount(me)
  const n = async (rows: PromiseLike<unknown>) => Number(((await rows) as [{ n: number }])[0].n)
  const sent = () => n(useDb().select({ n: count() }).from(dms).where(eq(dms.senderId, me)))
  const received = () => n(useDb().select({ n: count() }).from(dms).where(eq(dms.recipientId, me)))
  const hidden = (side?: boolean) => n(useDb().select({ n: count() }).from(dmHidden)
    .where(side === undefined ? eq(dmHidden.userId, me) : and(eq(dmHidden.userId, me), eq(dmHidden.received, side))))
  const [plus, minus] = await Promise.all([
    Promise.all(query.box === 'sent' ? [sent()] : query.box === 'received' ? [received()] : [sent(), received()]),
    hidden(query.box === 'all' ? undefined : query.box === 'received'),
  ])
  return plus.reduce((a, b) => a + b, 0) - minus
}

/**
 * Unread messages to the user that they still see: an index count of the unread ones minus their hidden rows
 * that were unread when hidden — checked against the message, in case it was read at the same moment.
 */
export async function unreadCount(userId: string) {
  const hiddenUnread = useDb().select({ one: sql`1` }).from(dms)
    .where(and(isNull(dms.readAt), sql`${sql.identifier('dms')}.${sql.identifier('id')} = ${sql.identifier('dm_hidden')}.${sql.identifier('dm_id')}`))
  const [[all], [hidden]] = await Promise.all([
    useDb().select({ n: count() }).from(dms).where(and(eq(dms.recipientId, userId), isNull(dms.readAt))),
    useDb().select({ n: count() }).from(dmHidden).where(and(eq(dmHidden.userId, userId), eq(dmHidden.received, true), eq(dmHidden.unread, true), exists(hiddenUnread))),
  ]) as [[{ n: number }], [{ n: number }]]
  return Number(all.n) - Number(hidden.n)
}

/** A message the caller sent or received and has not deleted; anything else 404 (`missing`). */
async function visibleDm(viewer: Viewer, id: string, missing = notFound): Promise<Dm> {
  const [row] = await useDb().select().from(dms)
    .where(and(eq(dms.id, id), or(eq(dms.senderId, viewer.id), eq(dms.recipientId, viewer.id)), notHiddenFor(viewer.id))).limit(1)
  if (!row) throw missing()
  return row
}

export const getDm = async (viewer: Viewer, id: string) => (await shaped([await visibleDm(viewer, id)]))[0]!

/** `POST /api/messages` after guard, validation and rate limit: recipient and thread rules, then one insert. */
export async function sendDm(viewer: Viewer, input: { recipientId: string, content: string, parentId?: string, clientId?: string }): Promise<ApiDm & { repeated?: true }> {
  // the outbox sending again what the server already has: what the first send made (it may since have been hidden: 404)
  const earlier = await earlierSend(viewer.id, input.clientId, 'dm')
  if (earlier) return { ...(await getDm(viewer, earlier)), repeated: true }
  const parent = input.parentId ? await visibleDm(viewer, input.parentId, noParent) : null
  if (input.recipientId === viewer.id) throw badRecipient('cannot be yourself')
  const [recipient] = await useDb().select({ id: users.id, active: users.active }).from(users).where(eq(users.id, input.recipientId)).limit(1)
  if (!recipient || !recipient.active) throw badRecipient('no active user with this id')
  if (parent) {
    const other = parent.senderId === viewer.id ? parent.recipientId : parent.senderId
    if (other !== recipient.id) throw badRecipient('a reply goes to the other participant of the thread')
  }
  const id = uuidv7()
  const row: Dm = {
    id,
    senderId: viewer.id,
    recipientId: recipient.id,
    threadId: parent?.threadId ?? id,
    parentId: parent?.id ?? null,
    content: input.content,
    readAt: null,
    editedAt: null,
    createdAt: new Date(),
  }
  // an outbox send's record goes in the same commit as the message: a crash between the two would send it twice
  await groupCommit(db => [db.insert(dms).values(row), ...(input.clientId ? [clientSendWrite(viewer.id, input.clientId, 'dm', id)] : [])]).catch(async (error: unknown) => {
    // the recipient was deleted since the check above: the answer a later request gets (a deleted caller: 401)
    if (referenceGone(error) && !(await useDb().select({ id: users.id }).from(users).where(eq(users.id, recipient.id)).limit(1)).length)
      throw badRecipient('no active user with this id')
    throw error
  })
  const dm = (await shaped([row]))[0]!
  publish(userTopic(recipient.id), 'dm', { dm })
  publishUnreadChanged(recipient.id)
  return dm
}

/** `PUT /api/messages/:id`: the sender edits; the recipient gets 403. */
export async function editDm(viewer: Viewer, id: string, content: string) {
  const dm = await visibleDm(viewer, id)
  if (dm.senderId !== viewer.id) throw createError({ statusCode: 403, message: 'Only the sender can edit this message' })
  const editedAt = new Date()
  await useDb().update(dms).set({ content, editedAt }).where(eq(dms.id, id))
  const edited = (await shaped([{ ...dm, content, editedAt }]))[0]!
  // the sender's other tabs, and the recipient unless they deleted it from their view
  publish(userTopic(viewer.id), 'dm-update', { dm: edited })
  const recipientId = dm.recipientId
  if (recipientId) void stillSees(recipientId, dm.id).then(sees => sees && publish(userTopic(recipientId), 'dm-update', { dm: edited }), () => {})
  return edited
}

async function stillSees(userId: string, dmId: string) {
  const [row] = await useDb().select({ id: dmHidden.id }).from(dmHidden).where(and(eq(dmHidden.dmId, dmId), eq(dmHidden.userId, userId))).limit(1)
  return !row
}

const hiddenColumn = (column: string) => sql`${sql.identifier('dm_hidden')}.${sql.identifier(column)}`
const dmsColumn = (column: string) => sql`${sql.identifier('dms')}.${sql.identifier(column)}`

/**
 * Whether the sender deleted the message from their view, evaluated in the UPDATE's RETURNING: one statement
 * for read-all however many messages it marks, instead of a `stillSees` query per message.
 */
const senderHid = sql`exists (select 1 from ${sql.identifier('dm_hidden')} where ${hiddenColumn('dm_id')} = ${dmsColumn('id')} and ${hiddenColumn('user_id')} = ${dmsColumn('sender_id')})`
  .mapWith(Boolean) // SQLite answers 0/1, PostgreSQL a boolean

/**
 * Messages just read, live as `dm-update`, all of one person's in one bus message: their senders see "Leído" (not
 * a sender who deleted the message from their view, nor a deleted sender), and the reader's other tabs stop
 * showing them as unread.
 */
function tellReadState(readerId: string, read: Array<ApiDm & { senderHid: boolean }>) {
  const byUser = new Map<string, ApiDm[]>()
  const add = (userId: string, dm: ApiDm) => {
    const list = byUser.get(userId)
    if (list) list.push(dm)
    else byUser.set(userId, [dm])
  }
  for (const { senderHid: hid, ...dm } of read) {
    add(readerId, dm)
    if (dm.senderId && !hid) add(dm.senderId, dm)
  }
  for (const [userId, list] of byUser) publishAll(userTopic(userId), list.map(dm => ({ event: 'dm-update' as const, data: { dm } })))
}

/** `PUT /api/messages/:id/read`: the recipient marks it read (once; later calls keep the first time). */
export async function markDmRead(viewer: Viewer, id: string) {
  const dm = await visibleDm(viewer, id)
  if (dm.recipientId !== viewer.id) throw createError({ statusCode: 403, message: 'Only the recipient can mark this message read' })
  if (dm.readAt) return (await shaped([dm]))[0]!
  const readAt = new Date()
  const [marked] = await useDb().update(dms).set({ readAt }).where(and(eq(dms.id, id), isNull(dms.readAt)))
    .returning({ ...getTableColumns(dms), senderHid })
  // read at the same moment by another request: that one told the sender; answer the first readAt
  const [fresh] = marked ? [marked] : await useDb().select().from(dms).where(eq(dms.id, id)).limit(1)
  publishUnreadChanged(viewer.id)
  const shown = (await shaped([fresh ?? { ...dm, readAt }]))[0]!
  if (marked) tellReadState(viewer.id, [{ ...shown, senderHid: marked.senderHid }])
  return shown
}

/** `PUT /api/messages/read-all`: every unread message to the caller that they still see. */
export async function markAllDmsRead(viewer: Viewer) {
  const updated = await useDb().update(dms).set({ readAt: new Date() }).where(unreadFor(viewer.id))
    .returning({ ...getTableColumns(dms), senderHid })
  if (updated.length) {
    publishUnreadChanged(viewer.id)
    const names = await namesOf(updated.flatMap(r => [r.senderId, r.recipientId]))
    tellReadState(viewer.id, updated.map(r => ({ ...toApiDm(r, names), senderHid: r.senderHid })))
  }
  return { updated: updated.length }
}

/** `DELETE /api/messages/:id`: gone from the caller's view; the other participant keeps their copy. */
export async function hideDm(viewer: Viewer, id: string) {
  const dm = await visibleDm(viewer, id)
  const received = dm.recipientId === viewer.id
  const hidden = await useDb().insert(dmHidden).values({ id: uuidv7(), dmId: dm.id, userId: viewer.id, received, unread: received && !dm.readAt })
    .onConflictDoNothing().returning({ id: dmHidden.id })
  // a delete racing this one got there first: for this request the message is already gone
  if (!hidden.length) throw notFound()
  publish(userTopic(viewer.id), 'dm-delete', { id: dm.id })
  if (dm.recipientId === viewer.id && !dm.readAt) publishUnreadChanged(viewer.id)
}

/** A burst from one sender must not slip past the limit between reading and writing the counter. */
export const serialized = keyedQueue()
