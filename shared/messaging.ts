/** API shapes of messages between people, reports and live events (API.md), shared by server and stores. */

/** A person as a message or report names them; `id`/`fullName` are null once that user was deleted. */
export interface ApiPersonRef { id: string | null, fullName: string | null }

/** A message between two people (`dm` in API.md). */
export interface ApiDm {
  id: string
  /** null when the sender's account was deleted (shown as a deleted user). */
  senderId: string | null
  recipientId: string | null
  sender: ApiPersonRef
  recipient: ApiPersonRef
  content: string
  parentId: string | null
  /** The id of the thread's first message (equal to `id` for a first message). */
  threadId: string
  read: boolean
  readAt: string | null
  editedAt: string | null
  createdAt: string
}

export type DmBox = 'all' | 'received' | 'sent'

/** One row of `GET /api/directory`: an active person the caller may write to. */
export interface ApiDirectoryEntry { id: string, fullName: string, email: string, role: string }

export const REPORT_STATUSES = ['open', 'in_progress', 'resolved'] as const
export type ReportStatus = typeof REPORT_STATUSES[number]

export interface ApiReport {
  id: string
  reporterId: string
  reporter: ApiPersonRef
  title: string
  content: string
  status: ReportStatus
  commentCount: number
  resolvedAt: string | null
  resolvedBy: string | null
  /** Null: the reporter filed it in the app (or the API); `assistant` / `sms`: the assistant filed it for them, on the web or by SMS. */
  filedVia: ReportFiledVia | null
  createdAt: string
  updatedAt: string
}

export type ReportFiledVia = 'assistant' | 'sms'

export interface ApiReportComment {
  id: string
  authorId: string | null
  author: ApiPersonRef
  content: string
  /** The status this comment set, or null. */
  status: ReportStatus | null
  createdAt: string
}

/** `GET /api/reports/:id`: the report with its comments, oldest first. */
export interface ApiReportDetail extends ApiReport { comments: ApiReportComment[] }

/** Limits of the contract, shared by the forms and the server's validation. */
export const DM_MAX_CHARS = 10_000
export const REPORT_TITLE_MAX = 255
export const REPORT_CONTENT_MAX = 20_000
export const REPORT_COMMENT_MAX = 20_000

/** Events of `GET /api/events`, by event name. */
export interface LiveEvents {
  unread: { count: number }
  dm: { dm: ApiDm }
  /**
   * A message the caller sent or received was edited (both participants' streams), or one the caller sent was read
   * by its recipient (the sender's streams). Not sent to a participant who deleted it from their view.
   */
  'dm-update': { dm: ApiDm }
  /** The caller deleted a message from their view in another tab (their own streams only). */
  'dm-delete': { id: string }
  report: { id: string, status: ReportStatus }
  /** One of the caller's conversations got a title: its first exchange named it, or it was renamed (any tab or device). */
  conversation: { id: string, title: string }
}
export type LiveEventName = keyof LiveEvents
