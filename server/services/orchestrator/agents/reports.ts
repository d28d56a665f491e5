import * as v from 'valibot'
import { REPORT_COMMENT_MAX, REPORT_CONTENT_MAX, REPORT_TITLE_MAX, REPORT_STATUSES, type ApiReport, type ReportStatus } from '#shared/messaging'
import { can, requireReport, type Viewer } from '../../access'
import { addComment, createReport, myReports, reportDetail, resolveReport } from '../../reports'
import type { AgentTool } from '../tools'
import { maxChars } from '#shared/schemas'
import { textProblem } from '#shared/text'

/**
 * The report agent (API.md "Assistant tools"): four tools, each run as the user through the reports service and
 * `access.ts`, so the model can do exactly what the user could do in the app and nothing more. A tool the user
 * may not use is not offered; a call the scope refuses comes back to the model as an error result.
 */

// the model gets the fields it needs to answer, not the whole API shape
const brief = (r: ApiReport) => ({ id: r.id, title: r.title, status: r.status, reporter: r.reporter.fullName, commentCount: r.commentCount, createdAt: r.createdAt, updatedAt: r.updatedAt })

// PostgreSQL refuses NUL (and its jsonb half a character) in text: bad arguments, not a failed tool
const storable = v.rawCheck<string>(({ dataset, addIssue }) => {
  const problem = dataset.typed ? textProblem(dataset.value) : null
  if (problem) addIssue({ message: problem })
})
const Id = v.pipe(v.string('must be a string'), storable, v.trim(), v.minLength(1, 'is required'), v.maxLength(100, 'is too long'))
const Text = (max: number) => v.pipe(v.string('must be a string'), storable, v.trim(), v.minLength(1, 'must not be empty'), maxChars(max))
const Status = v.picklist(REPORT_STATUSES, `must be one of ${REPORT_STATUSES.join(', ')}`)
// models sometimes send null or "" for an argument they mean to leave out
const optional = <T extends v.GenericSchema>(schema: T) => v.pipe(v.nullish(v.union([v.literal(''), schema])), v.transform(x => (x === '' || x === null ? undefined : x) as v.InferOutput<T> | undefined))

const LIST_LIMIT = 20

const listMyReports: AgentTool = {
  name: 'list_my_reports',
  description: 'List the reports (incidents) the current user has filed, newest first, with their status. Optionally only those with one status.',
  parameters: { type: 'object', properties: { status: { type: 'string', enum: [...REPORT_STATUSES], description: 'only reports with this status' } }, required: [] },
  args: v.object({ status: optional(Status) }),
  run: async ({ status }: { status?: ReportStatus }, { user }) => {
    const page = await myReports(user, { status, limit: LIST_LIMIT, offset: 0 })
    return { total: page.total, reports: page.data.map(brief) }
  },
}

const getReport: AgentTool = {
  name: 'get_report',
  description: 'Get one report by id: its title, full text, status and comments.',
  parameters: { type: 'object', properties: { id: { type: 'string', description: 'the report id' } }, required: ['id'] },
  args: v.object({ id: Id }),
  run: async ({ id }: { id: string }, { user }) => {
    await requireReport(user, id, 'read')
    const report = await reportDetail(id)
    return { ...brief(report), content: report.content, comments: report.comments.map(c => ({ author: c.author.fullName, content: c.content, status: c.status, createdAt: c.createdAt })) }
  },
}

const createReportTool: AgentTool = {
  name: 'create_report',
  description: 'File a new report (incident) for the current user, with a short title and a description. Only when the user asks to file one.',
  parameters: {
    type: 'object',
    properties: { title: { type: 'string', description: 'a short title' }, content: { type: 'string', description: 'what happened, where, and any details' } },
    required: ['title', 'content'],
  },
  args: v.object({ title: Text(REPORT_TITLE_MAX), content: Text(REPORT_CONTENT_MAX) }),
  run: async (input: { title: string, content: string }, { user, channel }) =>
    ({ created: brief(await createReport(user, { ...input, filedVia: channel === 'sms' ? 'sms' : 'assistant' })) }),
}

const updateReportStatus: AgentTool = {
  name: 'update_report_status',
  description: 'Change the status of a report the user handles as staff (open, in_progress, resolved), with an optional comment.',
  parameters: {
    type: 'object',
    properties: {
      id: { type: 'string', description: 'the report id' },
      status: { type: 'string', enum: [...REPORT_STATUSES], description: 'the new status' },
      comment: { type: 'string', description: 'an optional comment for the reporter' },
    },
    required: ['id', 'status'],
  },
  args: v.object({ id: Id, status: Status, comment: optional(Text(REPORT_COMMENT_MAX)) }),
  run: async ({ id, status, comment }: { id: string, status: ReportStatus, comment?: string }, { user }) => {
    const report = await requireReport(user, id, 'manage')
    if (status === 'resolved') return { updated: brief(await resolveReport(null, user, report, comment)) }
    // staff acting on their own report comment as its reporter (not audited as a staff comment), as the route does
    await addComment(null, user, report, { content: comment ?? `Estado: ${status}`, status }, report.reporterId !== user.id)
    return { updated: { id: report.id, title: report.title, status } }
  },
}

/** The report agent's tools offered to `user` (API.md table: by permission). */
export async function reportTools(user: Viewer): Promise<AgentTool[]> {
  const files = can(user, 'reports.create')
  const manages = can(user, 'reports.manage')
  return [
    ...(files ? [listMyReports] : []),
    ...(files || manages ? [getReport] : []),
    ...(files ? [createReportTool] : []),
    ...(manages ? [updateReportStatus] : []),
  ]
}
