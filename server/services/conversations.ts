import { and, asc, count, desc, eq, gte, inArray, lt, lte, ne, or, type SQL, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import { UNNAMED_TITLE } from '#shared/conversations'
import type { ApiConversation, ApiCursorList, ApiMessage, ApiToolCall } from '#shared/types'
import { referenceGone, useDb } from '../db/client'
import { type Conversation, conversations, type Message, messages, systemPrompts, users } from '../db/schema'
import { conversationPage, type PageRow } from './conversation-pages'
import { publish, userTopic } from './events'
import { after, checkPaging, decodeCursor, keysetPage } from './keyset'
import { storedToolLine } from './orchestrator/tools'
import { conversationMatches, messageHits, messageSnippets, searchTerms } from './search'
import { defaultSystemPrompt, findSystemPrompt } from './system-prompts'

/** API.md `conversation`: the one shaper of a conversation row (a full row, or a list page's columns). */
export function toApiConversation(c: PageRow, messageCount: number): ApiConversation {
  return {
    id: c.id,
    userId: c.userId,
    title: c.title,
    model: c.model,
    systemPromptId: c.systemPromptId ?? null,
    pinned: c.pinned,
    archived: c.archived,
    // only SMS conversations carry it: the web ones keep API.md's exact shape
    ...(c.channel === 'sms' ? { channel: 'sms' as const } : {}),
    messageCount,
    createdAt: c.createdAt.toISOString(),
    updatedAt: c.updatedAt.toISOString(),
  }
}

/** The writers of user messages that are not the conversation owner's, by id; a deleted account's id is missing. */
type Authors = ReadonlyMap<string, { id: string, fullName: string }>

/** API.md `message`; `author` only on a user message by someone other than `ownerId` (docs/api.md). */
function toApiMessage(m: Message, ownerId: string, authors: Authors): ApiMessage {
  const message: ApiMessage = {
    id: m.id,
    conversationId: m.conversationId,
    role: m.role,
    content: m.content,
    status: m.status,
    model: m.model ?? null,
    usage: m.promptTokens === null && m.completionTokens === null
      ? null
      : { promptTokens: m.promptTokens ?? 0, completionTokens: m.completionTokens ?? 0, firstTokenMs: m.firstTokenMs ?? null, durationMs: m.durationMs ?? null },
    createdAt: m.createdAt.toISOString(),
  }
  if (m.role === 'user' && m.authorId && m.authorId !== ownerId) message.author = authors.get(m.authorId) ?? null
  return message
}

/** The names of the users other than `ownerId` who wrote user messages among `rows` (after a reassignment). */
async function otherAuthors(rows: readonly Message[], ownerId: string): Promise<Authors> {
  const ids = [...new Set(rows.flatMap(m => (m.role === 'user' && m.authorId && m.authorId !== ownerId ? [m.authorId] : [])))]
  if (ids.length === 0) return new Map()
  const found = await useDb().select({ id: users.id, fullName: users.fullName }).from(users).where(inArray(users.id, ids))
  return new Map(found.map(u => [u.id, u]))
}

/** Rows as API.md `message`s of `conversation`. */
export async function toApiMessages(rows: readonly Message[], conversation: Pick<Conversation, 'userId'>) {
  const authors = await otherAuthors(rows, conversation.userId)
  return rows.map(m => toApiMessage(m, conversation.userId, authors))
}

/** Tool calls are kept with the conversation for the model's history, not shown as messages (API.md). */
const notTool = ne(messages.role, 'tool')

/** Message counts of the given conversations (tool calls not counted). */
export async function messageCounts(ids: string[]) {
  if (ids.length === 0) return new Map<string, number>()
  const rows = await useDb().select({ id: messages.conversationId, n: count() }).from(messages)
    .where(and(inArray(messages.conversationId, ids), notTool)).groupBy(messages.conversationId)
  return new Map(rows.map(r => [r.id, Number(r.n)]))
}

/**
 * A page of a conversation's messages: the newest `limit` older than message `before` (or the newest overall), after
 * skipping the newest `offset` of those, oldest first within the page — the paging of `/api/conversations/:id/messages`.
 * Without tool rows the total is the row's stored count (kept by triggers in the writes' own transactions, migration
 * 0006): a `count(*)` skipping tool rows read every message of the conversation (bench/conversation-pages.mjs).
 */
export async function pageMessages({ id: conversationId, userId, messageCount }: Pick<Conversation, 'id' | 'userId'> & { messageCount?: number }, page: { limit: number, offset?: number, before?: string, includeTools?: boolean }) {
  const db = useDb()
  const inConversation = page.includeTools ? eq(messages.conversationId, conversationId) : and(eq(messages.conversationId, conversationId), notTool)!
  let where = inConversation
  if (page.before) {
    const [anchor] = await db.select().from(messages).where(and(inConversation, eq(messages.id, page.before))).limit(1)
    if (!anchor) throw fieldError('before', 'message not found in this conversation', 404)
    where = and(inConversation, or(lt(messages.createdAt, anchor.createdAt), and(eq(messages.createdAt, anchor.createdAt), lt(messages.id, anchor.id))))!
  }
  const total = !page.includeTools && typeof messageCount === 'number'
    ? messageCount
    : (await db.select({ total: count() }).from(messages).where(inConversation) as [{ total: number }])[0].total
  const rows = (await db.select().from(messages).where(where)
    .orderBy(desc(messages.createdAt), desc(messages.id)).limit(page.limit).offset(page.offset ?? 0)).reverse()
  const data = await toApiMessages(rows, { userId })
  if (!page.includeTools) {
    const tools = await toolsOfAnswers(conversationId, rows)
    for (const message of data) {
      const lines = tools.get(message.id)
      if (lines) message.tools = lines
    }
  }
  return { total: Number(total), data }
}

/**
 * The tool calls behind the answers among `rows` (a page without tool rows, oldest first), by answer id. An answer's
 * `tool` rows are saved with it, dated between its question and it (orchestrator/persist.ts), so each belongs to
 * the first message dated after it. The first answer's question may be on the page before: its date is read then.
 */
async function toolsOfAnswers(conversationId: string, rows: readonly Message[]): Promise<Map<string, ApiToolCall[]>> {
  const byAnswer = new Map<string, ApiToolCall[]>()
  const lastAnswer = rows.findLast(m => m.role === 'assistant')
  if (!lastAnswer) return byAnswer
  const db = useDb()
  const inConversation = eq(messages.conversationId, conversationId)
  let from = rows[0]!.createdAt
  if (rows[0]!.role === 'assistant') {
    const [question] = await db.select({ createdAt: messages.createdAt }).from(messages)
      .where(and(inConversation, notTool, lt(messages.createdAt, from))).orderBy(desc(messages.createdAt)).limit(1)
    from = question?.createdAt ?? new Date(0)
  }
  const calls = await db.select().from(messages)
    .where(and(inConversation, eq(messages.role, 'tool'), gte(messages.createdAt, from), lte(messages.createdAt, lastAnswer.createdAt)))
    .orderBy(asc(messages.createdAt), asc(messages.id))
  let next = 0
  for (const row of rows) {
    const at = row.createdAt.getTime()
    const lines: ApiToolCall[] = []
    // a call dated in the same millisecond as its answer is still the answer's
    while (next < calls.length && (calls[next]!.createdAt.getTime() < at || (row.role === 'assistant' && calls[next]!.createdAt.getTime() === at))) {
      const line = storedToolLine(calls[next++]!)
      if (line) lines.push(line)
    }
    if (row.role === 'assistant' && lines.length) byAnswer.set(row.id, lines)
  }
  return byAnswer
}

export async function conversationWithCount(c: Conversation) {
  // read afresh: the row in hand may predate messages saved since (the stored count is kept by triggers)
  return toApiConversation(c, (await messageCounts([c.id])).get(c.id) ?? 0)
}


export interface ConversationQuery {
  limit: number
  offset: number
  cursor?: string
  q?: string
  archived?: boolean
  /** `q` also searches message text: the owner's own search only (anyone else's would be an unaudited read). */
  searchMessages?: boolean
}

const listOrder = [conversations.pinned, conversations.updatedAt, conversations.id]
const listKey = (c: PageRow) => [c.pinned, c.updatedAt.getTime(), c.id]

/**
 * One user's conversations: pinned first, then the most recently updated. Paged by `offset` or by `cursor`
 * (keyset: `nextCursor` of the previous page). With `q`, each conversation carries the `snippet` of its newest
 * matching message (null when only the title matched, or when message text is not searched).
 */
export async function listConversations(ownerId: string, query: ConversationQuery): Promise<ApiCursorList<ApiConversation>> {
  checkPaging(query)
  const [pinned, updatedAt, id] = query.cursor ? decodeCursor(query.cursor, ['boolean', 'number', 'string']) : []
  const search = query.q ? searchTerms(query.q) : undefined
  if (!search) {
    // without a search the total is the owner's stored count (kept by triggers: migration 0008), not a count(*)
    const { total, rows } = await conversationPage(ownerId, { order: 'list', limit: query.limit + 1, offset: query.offset, archived: query.archived, key: query.cursor ? [pinned!, updatedAt!, id!] : undefined })
    const page = keysetPage(rows, query.limit, listKey)
    return { total: total ?? 0, data: page.data.map(r => toApiConversation(r, r.messageCount)), nextCursor: page.nextCursor }
  }
  const filters: SQL[] = [eq(conversations.userId, ownerId)]
  // SQLite: the full-text query is evaluated once, here, for the total, the page and the snippets
  const hits = query.searchMessages ? await messageHits(ownerId, search) : undefined
  filters.push(conversationMatches(search, ownerId, query.searchMessages ?? false, hits))
  if (query.archived !== undefined) filters.push(eq(conversations.archived, query.archived))
  const where = and(...filters)
  const db = useDb()
  const [total, rows] = await Promise.all([
    db.select({ total: count() }).from(conversations).where(where).then(([row]) => Number(row?.total ?? 0)),
    db.select().from(conversations)
      .where(query.cursor ? and(where, after(listOrder, [pinned, new Date(updatedAt as number), id])) : where)
      .orderBy(...listOrder.map(column => desc(column)))
      .limit(query.limit + 1).offset(query.cursor ? 0 : query.offset),
  ])
  const page = keysetPage(rows, query.limit, listKey)
  const snippets = query.searchMessages ? await messageSnippets(ownerId, page.data.map(c => c.id), search, hits) : undefined
  return {
    total,
    data: page.data.map(c => snippets ? { ...toApiConversation(c, c.messageCount), snippet: snippets.get(c.id) ?? null } : toApiConversation(c, c.messageCount)),
    nextCursor: page.nextCursor,
  }
}

/** 400 naming `systemPromptId` when it matches no prompt; else the prompt's id (or the default's). */
export async function resolveSystemPromptId(id: string | undefined): Promise<string | null> {
  if (!id) return (await defaultSystemPrompt())?.id ?? null
  if (!(await findSystemPrompt(id)))
    throw fieldError('systemPromptId', 'no such system prompt')
  return id
}

/** Tells the owner's open tabs (live events) the title a conversation now has. */
export const publishTitle = (c: Pick<Conversation, 'id' | 'userId' | 'title'>) => publish(userTopic(c.userId), 'conversation', { id: c.id, title: c.title })

/** A new conversation row (not yet saved); the title stays the placeholder until the first answer names it. */
export function newConversation(ownerId: string, input: { title?: string, systemPromptId?: string | null, model: string, channel?: Conversation['channel'], id?: string }): Conversation {
  const now = new Date()
  return {
    id: input.id ?? uuidv7(),
    userId: ownerId,
    title: input.title ?? UNNAMED_TITLE,
    model: input.model,
    systemPromptId: input.systemPromptId ?? null,
    pinned: false,
    archived: false,
    channel: input.channel ?? 'web',
    accessSeenAt: null,
    messageCount: 0,
    createdAt: now,
    updatedAt: now,
  }
}

/**
 * For a write refused by a foreign key: the 400 naming `systemPromptId` when that prompt was deleted since it was
 * checked (what a later request gets); any other error as it is (a caller deleted meanwhile: server/error.ts).
 */
export async function unlessPromptGone(error: unknown, systemPromptId: string | null | undefined): Promise<never> {
  if (referenceGone(error) && systemPromptId
    && !(await useDb().select({ id: systemPrompts.id }).from(systemPrompts).where(eq(systemPrompts.id, systemPromptId)).limit(1)).length)
    throw fieldError('systemPromptId', 'no such system prompt')
  throw error
}

export async function createConversation(ownerId: string, input: { title?: string, systemPromptId?: string | null, model: string }) {
  const row = newConversation(ownerId, input)
  await useDb().insert(conversations).values(row).catch((error: unknown) => unlessPromptGone(error, row.systemPromptId))
  return row
}

export async function updateConversation(id: string, change: { title?: string, pinned?: boolean, archived?: boolean }) {
  if (Object.keys(change).length === 0) {
    const [row] = await useDb().select().from(conversations).where(eq(conversations.id, id)).limit(1)
    return row!
  }
  const [row] = await useDb().update(conversations).set(change).where(eq(conversations.id, id)).returning()
  if (!row) throw createError({ statusCode: 404, message: 'Conversation not found' })
  // the owner's other tabs and devices show the new name at once
  if (change.title !== undefined) publishTitle(row)
  return row
}

/** Deletes a conversation and its messages; false when it was already gone (a concurrent delete won). */
export async function deleteConversation(id: string): Promise<boolean> {
  // messages first: SQLite enforces the cascade only with foreign_keys on
  await useDb().delete(messages).where(eq(messages.conversationId, id))
  const deleted = await useDb().delete(conversations).where(eq(conversations.id, id)).returning({ id: conversations.id })
  return deleted.length > 0
}

export const allMessages = (conversationId: string) =>
  useDb().select().from(messages).where(and(eq(messages.conversationId, conversationId), notTool)).orderBy(asc(messages.createdAt), asc(messages.id))

/** A file name for exports: ASCII letters and digits of the title. */
function fileStem(title: string) {
  const stem = title.normalize('NFD').replace(/[\u0300-\u036F]/g, '').toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60)
  return stem || 'conversacion'
}

const ROLE_LABEL = { user: 'Tú', assistant: 'Asistente', system: 'Sistema', tool: 'Herramienta' } as const
const DELETED_AUTHOR = 'Cuenta eliminada'
const STATUS_NOTE = { complete: '', stopped: '\n\n_(respuesta detenida)_', error: '\n\n_(respuesta incompleta: error del modelo)_' } as const

/** The whole conversation as Markdown or JSON, with the headers of a file download; the Markdown's dates in `timeZone`. */
export async function exportConversation(conversation: Conversation, format: 'md' | 'json', timeZone = 'UTC') {
  const rows = await allMessages(conversation.id)
  const messageList = await toApiMessages(rows, conversation)
  const api = toApiConversation(conversation, rows.length)
  const exportedAt = new Date().toISOString()
  const stem = fileStem(conversation.title)
  if (format === 'json') {
    const body = JSON.stringify({ exportedAt, conversation: api, messages: messageList }, null, 2)
    return { body, contentType: 'application/json; charset=utf-8', filename: `${stem}.json`, title: conversation.title }
  }
  // "5 dic 2026, 21:52": the company's language, the reader's clock
  const date = new Intl.DateTimeFormat('es-CL', { timeZone, dateStyle: 'medium', timeStyle: 'short' })
  const lines = [
    `# ${conversation.title}`,
    '',
    `- Modelo: ${conversation.model}`,
    `- Creada: ${date.format(conversation.createdAt)}`,
    `- Exportada: ${date.format(new Date(exportedAt))}`,
    `- Zona horaria: ${timeZone}`,
    '',
  ]
  for (const m of messageList) {
    const who = m.role === 'assistant' && m.model
      ? `${ROLE_LABEL[m.role]} (${m.model})`
      : m.author !== undefined ? (m.author?.fullName ?? DELETED_AUTHOR) : ROLE_LABEL[m.role]
    lines.push('---', '', `### ${who} · ${date.format(new Date(m.createdAt))}`, '', `${m.content}${STATUS_NOTE[m.status]}`, '')
  }
  return { body: lines.join('\n'), contentType: 'text/markdown; charset=utf-8', filename: `${stem}.md`, title: conversation.title }
}
