import type { H3Event } from 'h3'
import { and, count, desc, eq, gte, inArray, lt, type SQL, sql } from 'drizzle-orm'
import { type AccessLogEntry, AUDIT_USER_META_KEYS, type AuditEntry, type AuditFilter, type AuditNames, LAST_DATE_MS } from '#shared/admin'
import { useDb } from '../db/client'
import { type AuditEvent, auditEvents, conversations, reports, users } from '../db/schema'

/** Most rows one CSV export holds; narrow the dates for more. */
export const CSV_MAX_ROWS = 50_000

const DAY_MS = 86_400_000
const dateOnly = (text: string) => /^\d{4}-\d{2}-\d{2}$/.test(text)

/** `from` is inclusive; `to` is exclusive, except that a bare date means "through the end of that day" (UTC). */
export function auditWhere(filter: Omit<AuditFilter, 'limit' | 'offset' | 'format'>): SQL | undefined {
  const conditions: Array<SQL | undefined> = []
  if (filter.actorId) conditions.push(eq(auditEvents.actorId, filter.actorId))
  if (filter.action) {
    // `auth.*` matches every auth action
    conditions.push(filter.action.endsWith('*')
      ? sql`${auditEvents.action} like ${`${filter.action.slice(0, -1).replace(/[\\%_]/g, c => `\\${c}`)}%`} escape '\\'`
      : eq(auditEvents.action, filter.action))
  }
  if (filter.targetType) conditions.push(eq(auditEvents.targetType, filter.targetType))
  if (filter.targetId) conditions.push(eq(auditEvents.targetId, filter.targetId))
  if (filter.from) conditions.push(gte(auditEvents.at, new Date(filter.from)))
  if (filter.to) {
    const to = new Date(filter.to)
    // through the end of a bare date's day; 9999-12-31's end is the last date the databases are sent
    conditions.push(lt(auditEvents.at, dateOnly(filter.to) ? new Date(Math.min(to.getTime() + DAY_MS, LAST_DATE_MS - 1)) : to))
  }
  return and(...conditions)
}

const parseMeta = (meta: unknown) => (typeof meta === 'string' ? JSON.parse(meta) : meta) as Record<string, unknown> | null

export function toAuditEntry(row: AuditEvent): AuditEntry {
  return {
    id: row.id,
    at: row.at.toISOString(),
    actorId: row.actorId,
    action: row.action,
    targetType: row.targetType,
    targetId: row.targetId,
    ip: row.ip,
    userAgent: row.userAgent,
    meta: parseMeta(row.meta),
  }
}

/** Audit events newest first. */
export async function listAudit(filter: AuditFilter) {
  const where = auditWhere(filter)
  const db = useDb()
  const [{ total }] = await db.select({ total: count() }).from(auditEvents).where(where) as [{ total: number }]
  const rows = await db.select().from(auditEvents).where(where)
    .orderBy(desc(auditEvents.at), desc(auditEvents.id)).limit(filter.limit).offset(filter.offset)
  const data = rows.map(toAuditEntry)
  return { total: Number(total), data, names: await auditNames(data) }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The names of the people and the titles of the conversations and reports a page of events mentions (deleted ones
 * are left out). The log is admin-only, and admins see every report.
 */
async function auditNames(entries: AuditEntry[]): Promise<AuditNames> {
  const userIds = new Set<string>()
  const conversationIds = new Set<string>()
  const reportIds = new Set<string>()
  for (const entry of entries) {
    if (entry.actorId) userIds.add(entry.actorId)
    if (entry.targetId && entry.targetType === 'user') userIds.add(entry.targetId)
    if (entry.targetId && entry.targetType === 'conversation') conversationIds.add(entry.targetId)
    if (entry.targetId && entry.targetType === 'report' && UUID.test(entry.targetId)) reportIds.add(entry.targetId)
    // (an account change keeps its supervisor ids inside meta.before / meta.after)
    for (const meta of [entry.meta, entry.meta?.before, entry.meta?.after]) {
      if (!meta || typeof meta !== 'object') continue
      for (const key of AUDIT_USER_META_KEYS) {
        const value = (meta as Record<string, unknown>)[key]
        for (const id of Array.isArray(value) ? value : [value]) if (typeof id === 'string' && UUID.test(id)) userIds.add(id)
      }
    }
  }
  const db = useDb()
  const [people, chats, filed] = await Promise.all([
    userIds.size ? db.select({ id: users.id, name: users.fullName }).from(users).where(inArray(users.id, [...userIds])) : [],
    conversationIds.size ? db.select({ id: conversations.id, name: conversations.title }).from(conversations).where(inArray(conversations.id, [...conversationIds])) : [],
    reportIds.size ? db.select({ id: reports.id, name: reports.title }).from(reports).where(inArray(reports.id, [...reportIds])) : [],
  ])
  return {
    users: Object.fromEntries(people.map(p => [p.id, p.name])),
    conversations: Object.fromEntries(chats.map(c => [c.id, c.name])),
    reports: Object.fromEntries(filed.map(r => [r.id, r.name])),
  }
}

const CSV_COLUMNS = ['id', 'at', 'actorId', 'actorEmail', 'action', 'targetType', 'targetId', 'ip', 'userAgent', 'meta'] as const

/** RFC 4180 quoting; a leading = + - @ is defused so spreadsheets never run a cell as a formula. */
export function csvCell(value: unknown) {
  let text = value === null || value === undefined ? '' : typeof value === 'string' ? value : JSON.stringify(value)
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text
}

/** The matching events as CSV (newest first, at most CSV_MAX_ROWS), with the actor's email for readability. */
export async function auditCsv(filter: AuditFilter) {
  const rows = await useDb().select({ event: auditEvents, actorEmail: users.email }).from(auditEvents)
    .leftJoin(users, eq(users.id, auditEvents.actorId)).where(auditWhere(filter))
    .orderBy(desc(auditEvents.at), desc(auditEvents.id)).limit(CSV_MAX_ROWS)
  const lines = [CSV_COLUMNS.join(',')]
  for (const { event, actorEmail } of rows) {
    const entry = { ...toAuditEntry(event), actorEmail }
    lines.push(CSV_COLUMNS.map(column => csvCell(entry[column])).join(','))
  }
  return `${lines.join('\r\n')}\r\n`
}

export const ACCESS_ACTIONS = ['conversation.read', 'conversation.reassigned'] as const

/** Who opened or moved a conversation, newest first (the owner's transparency view). */
export async function conversationAccessLog(conversationId: string, page: { limit: number, offset: number }) {
  const db = useDb()
  const where = and(eq(auditEvents.targetId, conversationId), eq(auditEvents.targetType, 'conversation'), inArray(auditEvents.action, [...ACCESS_ACTIONS]))
  const [{ total }] = await db.select({ total: count() }).from(auditEvents).where(where) as [{ total: number }]
  const rows = await db.select({ event: auditEvents, actor: { id: users.id, fullName: users.fullName, role: users.role } })
    .from(auditEvents).leftJoin(users, eq(users.id, auditEvents.actorId)).where(where)
    .orderBy(desc(auditEvents.at), desc(auditEvents.id)).limit(page.limit).offset(page.offset)
  const data: AccessLogEntry[] = rows.map(({ event, actor }) => ({
    id: event.id,
    at: event.at.toISOString(),
    action: event.action as AccessLogEntry['action'],
    actor: actor?.id ? actor : null,
    meta: parseMeta(event.meta),
  }))
  return { total: Number(total), data }
}

/** Answers the CSV export as a download named after today's date. */
export async function sendAuditCsv(event: H3Event, filter: AuditFilter) {
  const csv = await auditCsv(filter)
  setResponseHeader(event, 'Content-Type', 'text/csv; charset=utf-8')
  setResponseHeader(event, 'Content-Disposition', `attachment; filename="audit-${new Date().toISOString().slice(0, 10)}.csv"`)
  return csv
}
