import type { H3Event } from 'h3'
import { and, asc, count, desc, eq, type SQL, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import type { ApiReport, ApiReportComment, ApiReportDetail, ReportFiledVia, ReportStatus } from '#shared/messaging'
import type { ApiList } from '#shared/types'
import { referenceGone, useDb } from '../db/client'
import { groupCommit } from '../db/group-commit'
import { type Report, type ReportComment, reportComments, reports, users } from '../db/schema'
import { scopeFilter, type Viewer } from './access'
import { clientSendWrite, earlierSend } from './client-sends'
import { audit } from './audit'
import { plainFolded, plainPattern } from './search'
import { publish, REPORTS_TOPIC, userTopic } from './events'
import { namesOf, personRef } from './people'

/**
 * Reports (incidencias): filed by anyone with `reports.create`, handled by staff (`reports.manage`) within the
 * reach `access.ts` gives them. Routes load a report through `requireReport` before calling in here.
 */

const commentCountOf = sql<number>`(select cast(count(*) as integer) from ${reportComments} where ${sql.identifier('report_comments')}.${sql.identifier('report_id')} = ${sql.identifier('reports')}.${sql.identifier('id')})`

type ReportRow = Report & { commentCount: number }

function toApiReport(r: ReportRow, names: Map<string, string>): ApiReport {
  return {
    id: r.id,
    reporterId: r.reporterId,
    reporter: personRef(r.reporterId, names),
    title: r.title,
    content: r.content,
    status: r.status,
    commentCount: Number(r.commentCount),
    resolvedAt: r.resolvedAt?.toISOString() ?? null,
    resolvedBy: r.resolvedBy ?? null,
    filedVia: r.filedVia ?? null,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  }
}

function toApiComment(c: ReportComment, names: Map<string, string>): ApiReportComment {
  return { id: c.id, authorId: c.authorId, author: personRef(c.authorId, names), content: c.content, status: c.status ?? null, createdAt: c.createdAt.toISOString() }
}

async function shaped(rows: ReportRow[]) {
  const names = await namesOf(rows.map(r => r.reporterId))
  return rows.map(r => toApiReport(r, names))
}

const withCount = { ...reportColumns(), commentCount: commentCountOf }
function reportColumns() {
  const { id, reporterId, title, content, status, resolvedAt, resolvedBy, filedVia, createdAt, updatedAt } = reports
  return { id, reporterId, title, content, status, resolvedAt, resolvedBy, filedVia, createdAt, updatedAt }
}

async function page(where: SQL | undefined, order: SQL[], limit: number, offset: number): Promise<ApiList<ApiReport>> {
  const [{ total }] = await useDb().select({ total: count() }).from(reports).where(where) as [{ total: number }]
  const rows = await useDb().select(withCount).from(reports).where(where).orderBy(...order).limit(limit).offset(offset)
  return { total: Number(total), data: await shaped(rows as ReportRow[]) }
}

const reportNotFound = () => createError({ statusCode: 404, message: 'Report not found' })

export async function reportById(id: string): Promise<ApiReport> {
  const [row] = await useDb().select(withCount).from(reports).where(eq(reports.id, id)).limit(1)
  if (!row) throw reportNotFound()
  return (await shaped([row as ReportRow]))[0]!
}

/** The report with its comments, oldest first. */
export async function reportDetail(id: string): Promise<ApiReportDetail> {
  const report = await reportById(id)
  const rows = await useDb().select().from(reportComments).where(eq(reportComments.reportId, id)).orderBy(asc(reportComments.createdAt), asc(reportComments.id))
  const names = await namesOf(rows.map(c => c.authorId))
  return { ...report, comments: rows.map(c => toApiComment(c, names)) }
}

/** Tells the reporter's streams and the staff streams (each filtering by its scope) about a new or changed report. */
function announce(report: Pick<Report, 'id' | 'reporterId' | 'status'>) {
  const data = { id: report.id, status: report.status }
  publish(userTopic(report.reporterId), 'report', data)
  publish(REPORTS_TOPIC, 'report', data, report.reporterId)
}

/** `filedVia`: the assistant files it for the viewer (create_report), on the web or by SMS; else the viewer did. */
export async function createReport(viewer: Viewer, input: { title: string, content: string, clientId?: string, filedVia?: ReportFiledVia }): Promise<ApiReport & { repeated?: true }> {
  // the outbox sending again what the server already has: the report the first send filed
  const earlier = await earlierSend(viewer.id, input.clientId, 'report')
  if (earlier) return { ...(await reportById(earlier)), repeated: true }
  const now = new Date()
  const row: Report = { id: uuidv7(), reporterId: viewer.id, title: input.title, content: input.content, status: 'open', resolvedAt: null, resolvedBy: null, filedVia: input.filedVia ?? null, createdAt: now, updatedAt: now }
  // an outbox send's record goes in the same commit as the report: a crash between the two would file it twice
  await groupCommit(db => [db.insert(reports).values(row), ...(input.clientId ? [clientSendWrite(viewer.id, input.clientId, 'report', row.id)] : [])])
  announce(row)
  return (await shaped([{ ...row, commentCount: 0 }]))[0]!
}

/** The caller's own reports, newest first. */
export const myReports = (viewer: Viewer, query: { status?: ReportStatus, limit: number, offset: number }) =>
  page(and(eq(reports.reporterId, viewer.id), query.status ? eq(reports.status, query.status) : undefined), [desc(reports.createdAt), desc(reports.id)], query.limit, query.offset)

export interface StaffQuery { status?: ReportStatus, reporterId?: string, q?: string, limit: number, offset: number }

// unresolved work first (open, then in progress), oldest first within each status
const queueOrder = sql`case ${reports.status} when 'open' then 0 when 'in_progress' then 1 else 2 end`

/** The staff queue: reports in the caller's scope, oldest open first. */
export async function staffReports(viewer: Viewer, query: StaffQuery) {
  const filters: Array<SQL | undefined> = [await scopeFilter(viewer, reports.reporterId, 'reports')]
  if (query.status) filters.push(eq(reports.status, query.status))
  if (query.reporterId) filters.push(eq(reports.reporterId, query.reporterId))
  if (query.q) {
    const pattern = plainPattern(query.q)
    filters.push(sql`(${plainFolded(reports.title)} like ${pattern} escape '\\' or ${plainFolded(reports.content)} like ${pattern} escape '\\')`)
  }
  return page(and(...filters), [queueOrder, asc(reports.createdAt), asc(reports.id)], query.limit, query.offset)
}

/**
 * Everyone who filed a report within `viewer`'s scope (themself included), by name: the queue's person filter offers
 * exactly the people it can show, where the company directory offered people outside a supervisor's team (404).
 */
export async function staffReporters(viewer: Viewer): Promise<Array<{ id: string, fullName: string }>> {
  return useDb().selectDistinct({ id: users.id, fullName: users.fullName }).from(reports)
    .innerJoin(users, eq(users.id, reports.reporterId))
    .where(await scopeFilter(viewer, reports.reporterId, 'reports'))
    .orderBy(asc(users.fullName), asc(users.id))
}

/** The reporter edits title/content (the route has checked: reporter, still open). */
export async function updateReport(report: Report, change: { title?: string, content?: string }) {
  if (report.status !== 'open') throw createError({ statusCode: 409, message: 'Only an open report can be edited' })
  const updatedAt = new Date()
  // the status condition closes the race with a staff member changing it meanwhile
  const done = await useDb().update(reports).set({ ...change, updatedAt }).where(and(eq(reports.id, report.id), eq(reports.status, 'open'))).returning({ id: reports.id })
  if (!done.length) {
    await reportById(report.id) // deleted meanwhile (with its reporter): 404, as a later request gets
    throw createError({ statusCode: 409, message: 'Only an open report can be edited' })
  }
  announce(report)
  return reportById(report.id)
}

/**
 * Status changes of one report one at a time in this process, each deciding on the report as it is then: two resolves
 * at once (a double click, two staff) wrote two "open → resolved" audits, and the second moved resolvedAt/By.
 */
const oneChange = keyedQueue()
// the report as it is now; deleted meanwhile (its reporter deleted without an heir) → 404, as a later request gets
async function current(report: Report) {
  const [now] = await useDb().select().from(reports).where(eq(reports.id, report.id)).limit(1)
  if (!now) throw reportNotFound()
  return now
}

/** Commits a change to a report; one deleted between the check and the commit (its foreign key) → 404. */
const commitToReport = (build: Parameters<typeof groupCommit>[0]) => groupCommit(build).catch((error: unknown) => {
  throw referenceGone(error) ? reportNotFound() : error
})

const statusFields = (status: ReportStatus, actorId: string, at: Date) =>
  status === 'resolved' ? { status, resolvedAt: at, resolvedBy: actorId } : { status, resolvedAt: null, resolvedBy: null }

interface CommentInput { content: string, status?: ReportStatus }

/**
 * A comment, and the status it sets, in one transaction. The route has checked who may comment and who may set a
 * status; `asStaff` says whether the author acts as staff (audited).
 */
export const addComment = (event: H3Event | null, viewer: Viewer, report: Report, input: CommentInput, asStaff: boolean) =>
  oneChange(report.id, async () => commentOn(event, viewer, await current(report), input, asStaff))

async function commentOn(event: H3Event | null, viewer: Viewer, report: Report, input: CommentInput, asStaff: boolean) {
  const at = new Date()
  const comment: ReportComment = { id: uuidv7(), reportId: report.id, authorId: viewer.id, content: input.content, status: input.status ?? null, createdAt: at }
  // one short commit (no libSQL transaction left open across awaits: server/db/group-commit.ts)
  await commitToReport(db => [
    db.insert(reportComments).values(comment),
    db.update(reports).set({ updatedAt: at, ...(input.status && input.status !== report.status ? statusFields(input.status, viewer.id, at) : {}) }).where(eq(reports.id, report.id)),
  ])
  if (asStaff) await audit(event, 'report.comment', { actorId: viewer.id, targetType: 'report', targetId: report.id, meta: { reporterId: report.reporterId, commentId: comment.id } })
  // a status the report already has is no status change (the comment still records it)
  if (input.status && input.status !== report.status)
    await audit(event, 'report.status', { actorId: viewer.id, targetType: 'report', targetId: report.id, meta: { from: report.status, to: input.status } })
  announce({ ...report, status: input.status ?? report.status })
  return toApiComment(comment, await namesOf([viewer.id]))
}

/** Staff resolve a report, with an optional closing comment (one transaction). */
export const resolveReport = (event: H3Event | null, viewer: Viewer, report: Report, comment?: string) =>
  oneChange(report.id, async () => resolve(event, viewer, await current(report), comment))

async function resolve(event: H3Event | null, viewer: Viewer, report: Report, comment?: string) {
  const at = new Date()
  const commentId = uuidv7()
  await commitToReport(db => [
    ...(comment ? [db.insert(reportComments).values({ id: commentId, reportId: report.id, authorId: viewer.id, content: comment, status: 'resolved', createdAt: at })] : []),
    // resolving a resolved report keeps who resolved it and when
    db.update(reports).set({ ...(report.status === 'resolved' ? {} : statusFields('resolved', viewer.id, at)), updatedAt: at }).where(eq(reports.id, report.id)),
  ])
  // a staff comment on someone else's report, as addComment audits it
  if (comment && viewer.id !== report.reporterId)
    await audit(event, 'report.comment', { actorId: viewer.id, targetType: 'report', targetId: report.id, meta: { reporterId: report.reporterId, commentId } })
  if (report.status !== 'resolved')
    await audit(event, 'report.status', { actorId: viewer.id, targetType: 'report', targetId: report.id, meta: { from: report.status, to: 'resolved' } })
  announce({ ...report, status: 'resolved' })
  return reportById(report.id)
}
