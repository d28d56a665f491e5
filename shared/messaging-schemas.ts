import * as v from 'valibot'
import { DM_MAX_CHARS, REPORT_COMMENT_MAX, REPORT_CONTENT_MAX, REPORT_STATUSES, REPORT_TITLE_MAX } from './messaging'
import { Id, maxChars, Paging } from './schemas'

/** Request schemas of messages between people and reports (API.md); field-named 400s come from these. */

/** PostgreSQL refuses NUL in text, so it is bad input everywhere (400), never a 500. */
const noNul = v.check<string, string>(s => !s.includes('\0'), 'must not contain NUL characters')

/** Text of 1..max characters (not blank), kept as written. */
const Text = (max: number) => v.pipe(
  v.string('must be a string'),
  noNul,
  v.check(s => s.trim().length > 0, 'must not be empty'),
  maxChars(max),
)
const Search = v.pipe(v.string('must be a string'), noNul, v.trim(), maxChars(200))
const QueryBool = v.pipe(v.picklist(['true', 'false'], 'must be true or false'), v.transform(s => s === 'true'))
export const ReportStatus = v.picklist(REPORT_STATUSES, `must be one of ${REPORT_STATUSES.join(', ')}`)

export const DirectoryQuery = v.object({ ...Paging, q: v.optional(Search) })
export const DmListQuery = v.object({
  ...Paging,
  box: v.optional(v.picklist(['all', 'received', 'sent'], 'must be all, received or sent'), 'all'),
  unread: v.optional(QueryBool),
  with: v.optional(Id),
  /** Cursor: only messages older than this one (the previous page's `nextCursor`). */
  before: v.optional(Id),
})
// `clientId`: the offline outbox's own id for the send (server/services/client-sends.ts)
export const SendDmBody = v.strictObject({ recipientId: Id, content: Text(DM_MAX_CHARS), parentId: v.optional(Id), clientId: v.optional(Id) })
export const EditDmBody = v.strictObject({ content: Text(DM_MAX_CHARS) })

export const CreateReportBody = v.strictObject({ title: Text(REPORT_TITLE_MAX), content: Text(REPORT_CONTENT_MAX), clientId: v.optional(Id) })
export const UpdateReportBody = v.strictObject({ title: v.optional(Text(REPORT_TITLE_MAX)), content: v.optional(Text(REPORT_CONTENT_MAX)) })
export const ReportCommentBody = v.strictObject({ content: Text(REPORT_COMMENT_MAX), status: v.optional(ReportStatus) })
export const ResolveReportBody = v.strictObject({ comment: v.optional(Text(REPORT_COMMENT_MAX)) })
export const MyReportsQuery = v.object({ ...Paging, status: v.optional(ReportStatus) })
export const StaffReportsQuery = v.object({ ...Paging, status: v.optional(ReportStatus), reporterId: v.optional(Id), q: v.optional(Search) })
