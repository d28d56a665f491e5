import * as v from 'valibot'
import { Cursor, Email, FullName, Id, maxChars, MessagesQuery, NewPassword, Paging, RoleName, WholeParam } from './schemas'
import type { ApiUser, Role } from './types'

/** Request schemas and answer shapes of `/api/admin/*` (API.md "Admin"), shared by the server and the admin store. */

const BoolText = v.pipe(v.picklist(['true', 'false'], 'must be true or false'), v.transform(s => s === 'true'))
const Text = (max: number) => v.pipe(v.string('must be a string'), v.trim(), v.minLength(1, 'is required'), maxChars(max))

/** The first instant of the year 10000: dates sent to the database stay before it. */
export const LAST_DATE_MS = Date.UTC(10000, 0, 1)
/** Whether the `YYYY-MM-DD` a date text starts with is a day of the calendar (`Date.parse` rolls 2025-02-30 over). */
function dayExists(text: string) {
  const [year, month, day] = text.slice(0, 10).split('-').map(Number) as [number, number, number]
  const date = new Date(Date.UTC(year, month - 1, day))
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day
}

/** `YYYY-MM-DD` (a whole day, UTC) or a full ISO-8601 date-time. */
const DateText = v.pipe(
  v.string('must be a date'),
  v.regex(/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:?\d{2})?)?$/, 'must be a date like 2025-01-31 or an ISO date-time'),
  v.check(s => !Number.isNaN(Date.parse(s)) && dayExists(s), 'must be a valid date'),
  // PostgreSQL has no year 0000; nothing in the audit predates 1970
  v.check(s => Number(s.slice(0, 4)) >= 1970, 'must be a date from 1970 on'),
  // JavaScript writes later instants as "+010000-…", which PostgreSQL refuses
  v.check(s => Date.parse(s) < LAST_DATE_MS, 'must be a date before the year 10000'),
)

export const AdminUsersQuery = v.object({
  q: v.optional(v.pipe(v.string('must be a string'), v.trim(), maxChars(200))),
  role: v.optional(RoleName),
  active: v.optional(BoolText),
  supervisorId: v.optional(Id),
  /** The holders of this role: any id `GET /api/admin/roles` lists (built-in or custom); unknown → 400. */
  roleId: v.optional(Id),
  ...Paging,
  cursor: Cursor,
})

export const CreateUserBody = v.strictObject({
  email: Email,
  fullName: FullName,
  role: RoleName,
  password: v.optional(NewPassword),
  supervisorId: v.optional(v.nullable(Id)),
  /** Default true: the person must choose their own password at the first sign-in. */
  mustChangePassword: v.optional(v.boolean('must be true or false')),
})

export const UpdateUserBody = v.strictObject({
  fullName: v.optional(FullName),
  role: v.optional(RoleName),
  active: v.optional(v.boolean('must be true or false')),
  supervisorId: v.optional(v.nullable(Id)),
})

export const ReassignBody = v.strictObject({ targetUserId: Id })

export const AdminListQuery = v.object({ ...Paging, cursor: Cursor })

/** The owner's paging, tool rows included on request (`?includeTools=true`), as `GET /api/conversations/:id/messages`. */
export const AdminMessagesQuery = MessagesQuery

export const AuditQuery = v.object({
  actorId: v.optional(Id),
  // actions are lower-case keys; folded here so that exact and prefix filters match alike on both databases (SQLite's
  // LIKE ignores ASCII case, PostgreSQL's does not)
  action: v.optional(v.pipe(v.string('must be a string'), v.trim(), v.toLowerCase(), maxChars(100))),
  targetType: v.optional(v.pipe(v.string('must be a string'), maxChars(50))),
  targetId: v.optional(Id),
  from: v.optional(DateText),
  to: v.optional(DateText),
  format: v.optional(v.picklist(['json', 'csv'], 'must be json or csv')),
  ...Paging,
})

export const SystemPromptBody = v.strictObject({
  name: Text(120),
  content: Text(20_000),
  isDefault: v.optional(v.boolean('must be true or false')),
})
export const SystemPromptPatch = v.partial(SystemPromptBody)
/** `GET /api/admin/system-prompts`: `limit` (1..100) and `offset` as on every list; without `limit`, every prompt. */
export const SystemPromptListQuery = v.object({ limit: v.optional(WholeParam(1, 100)), offset: Paging.offset })

export const StatsQuery = v.object({
  days: v.optional(WholeParam(1, 365), '30'),
})

export type AdminUsersFilter = v.InferOutput<typeof AdminUsersQuery>
export type AuditFilter = v.InferOutput<typeof AuditQuery>

/** A row of the admin users list. */
export interface AdminUser extends ApiUser {
  conversationCount: number
}

export interface AuditEntry {
  id: string
  at: string
  actorId: string | null
  action: string
  targetType: string | null
  targetId: string | null
  ip: string | null
  userAgent: string | null
  meta: Record<string, unknown> | null
}

/** Who and what an audit page mentions, by id, so the log reads as names and titles (GET /api/admin/audit). */
export interface AuditNames {
  users: Record<string, string>
  conversations: Record<string, string>
  reports: Record<string, string>
}

/** Meta keys whose values are user ids (one, or a list). */
/**
 * Every audit action, by area. The server records only these (`audit()` takes an `AuditAction`), and the log's
 * filter offers each of them; every one has a label and a sentence in each language (tests/unit/audit-actions.test.ts).
 */
export const AUDIT_ACTIONS = {
  auth: [
    'login', 'login_failed', 'logout', 'logout_all', 'register', 'password_changed', 'password_confirm_failed', 'session_revoked',
    'token_created', 'token_revoked', '2fa_setup', '2fa_enabled', '2fa_disabled', '2fa_challenge', 'email_verified', 'login_unconfirmed',
    'password_reset_requested', 'password_reset', 'profile_updated', 'phone_code_sent', 'phone_verified', 'phone_removed',
  ],
  admin: [
    'user_created', 'user_updated', 'user_deleted', 'password_reset', '2fa_reset', 'user_roles_changed', 'supervisor_assigned', 'user_phone_set',
    'settings_updated', 'team_defaults_changed', 'system_prompt_created', 'system_prompt_updated', 'system_prompt_deleted',
    'role_created', 'role_updated', 'role_deleted', 'channel_send_retry',
  ],
  conversation: ['read', 'reassigned', 'deleted'],
  report: ['comment', 'status'],
  sms: ['unregistered_sender'],
} as const
export type AuditArea = keyof typeof AUDIT_ACTIONS
export type AuditAction = { [A in AuditArea]: `${A}.${typeof AUDIT_ACTIONS[A][number]}` }[AuditArea]

export const AUDIT_USER_META_KEYS = ['ownerId', 'from', 'to', 'supervisorId', 'reporterId', 'userIds', 'transferTo'] as const

export interface AdminSystemPrompt { id: string, name: string, content: string, isDefault: boolean, createdAt: string, updatedAt: string }

export interface DailyStats {
  /** `YYYY-MM-DD`, UTC. */
  date: string
  messages: number
  activeUsers: number
  promptTokens: number
  completionTokens: number
  tokens: number
  medianFirstTokenMs: number | null
}

/** One person's usage over the period (their conversations' messages and tokens). */
export interface UserUsage { userId: string, name: string, messages: number, tokens: number }
/** One team's usage: the people a supervisor supervises (supervisorId null: people with no supervisor). */
export interface TeamUsage { supervisorId: string | null, name: string | null, members: number, messages: number, tokens: number }

export interface AdminStats {
  days: number
  from: string
  to: string
  data: DailyStats[]
  totals: Omit<DailyStats, 'date'> & { conversations: number }
  /** Within the viewer's scope, most messages first (at most STATS_TOP_USERS people). */
  byUser: UserUsage[]
  /** Within the viewer's scope, most messages first. */
  byTeam: TeamUsage[]
}

export const STATS_TOP_USERS = 50

/** One entry of a conversation's access log: who (other than the owner) opened or moved it, and when. */
export interface AccessLogEntry {
  id: string
  at: string
  action: 'conversation.read' | 'conversation.reassigned'
  actor: { id: string, fullName: string, role: Role } | null
  meta: Record<string, unknown> | null
}
