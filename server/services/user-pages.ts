import type { AdminUsersFilter } from '#shared/admin'
import { driverValue, epochDate, epochDateOrNull, epochMs, inList, jsonRows, jsonValue, listValue, nestedJson, readRows } from '../db/client'
import type { User } from '../db/schema'
import { plainFoldedText, plainPattern } from './search'
import type { ApiUserColumns } from './users'

/**
 * A page of the admin users list in hand-written SQL read as positional rows (server/db/hand-written.ts), as the
 * conversation lists (conversation-pages.ts): through drizzle's builder, libSQL's per-call `prepare` and row
 * objects, the list's four queries cost ~1.4 ms of CPU per request, about half of it in the database layers. It is
 * now one statement (count, page and each user's extra roles): on PostgreSQL every statement is a round trip. Rows
 * are plain: users.ts `toApiUser` stays the one shaper of `user`. Who may be listed is decided by the caller
 * (access.ts `visibleUserIds`), never here.
 */

/**
 * The columns `user` (API.md) shows, with the sort key, the stored conversation count, the newest conversation
 * change and the user's extra roles (what roles.ts `extraRolesOf` reads for one user).
 */
export type UserPageRow = ApiUserColumns & Pick<User, 'conversationCount'> & {
  sortName: string
  lastConversationAt: Date | null
  extraRoles: Array<{ id: string, name: string, permissions: string[] }>
}

export interface UserPageQuery extends Pick<AdminUsersFilter, 'q' | 'role' | 'active' | 'supervisorId'> {
  /** Only the holders of this custom role (its id; roles.ts `roleFilter` checks it exists). */
  customRoleId?: string
  /** The users the viewer may see (access.ts); null: everyone. */
  visible: readonly string[] | null
  limit: number
  offset: number
  /** The sort key (`sortName`, `id`) of the previous page's last row. */
  key?: [string, string]
}

// the sort and search form of a name: lower case without Spanish accents, the same on both databases (lower() alone
// leaves Á…Ñ as they are in SQLite)
const FOLDED_NAME = plainFoldedText('u.full_name')
// the user's most recently changed conversation: the last entry of conversations_user_updated_idx
const LAST_CONVERSATION = '(select max(c.updated_at) from conversations c where c.user_id = u.id)'
// the user's extra roles, in the page's statement: a second statement was a second round trip on PostgreSQL
const EXTRA_ROLES = `(select ${jsonRows(['r.id', 'r.name', nestedJson('r.permissions')])} from user_roles ur join roles r on r.id = ur.role_id where ur.user_id = u.id)`
const COLUMNS = ['u.id', 'u.email', 'u.full_name', 'u.role', 'u.active', 'u.supervisor_id', 'u.totp_enabled', 'u.is_demo', 'u.phone',
  epochMs('u.phone_verified_at'), 'u.bio', 'u.preferences', 'u.must_change_password', epochMs('u.created_at'), epochMs('u.last_active_at'),
  'u.conversation_count', FOLDED_NAME, epochMs(LAST_CONVERSATION), EXTRA_ROLES].join(', ')

/** The WHERE text and arguments of a query's filters; the text depends only on which filters are set. */
function filters(query: UserPageQuery): { text: string, args: unknown[] } {
  const parts: string[] = []
  const args: unknown[] = []
  const add = (text: string, ...values: unknown[]) => {
    parts.push(text)
    args.push(...values)
  }
  if (query.visible) add(inList('u.id'), listValue(query.visible))
  if (query.q) {
    const pattern = plainPattern(query.q)
    add(`(lower(u.email) like ? escape '\\' or ${FOLDED_NAME} like ? escape '\\')`, pattern, pattern)
  }
  if (query.role) add('u.role = ?', query.role)
  if (query.active !== undefined) add('u.active = ?', driverValue(query.active))
  if (query.supervisorId) add('u.supervisor_id = ?', query.supervisorId)
  if (query.customRoleId) add('exists (select 1 from user_roles ur where ur.user_id = u.id and ur.role_id = ?)', query.customRoleId)
  return { text: parts.length ? ` where ${parts.join(' and ')}` : '', args }
}

/**
 * Up to `limit` users by name (case-folded, then id) from `offset` or after `key`, and how many match in all: one
 * statement (the count is its first column, an uncorrelated subquery: read once), plus the count alone when the
 * page is empty.
 */
export async function userPage(query: UserPageQuery): Promise<{ total: number, rows: UserPageRow[] }> {
  const where = filters(query)
  const counted = `select count(*) from users u${where.text}`
  const keyed = query.key ? `${where.text ? ' and' : ' where'} (${FOLDED_NAME}, u.id) > (?, ?)` : ''
  const rows = await readRows(`select (${counted}), ${COLUMNS} from users u${where.text}${keyed} order by ${FOLDED_NAME}, u.id limit ? offset ?`,
    [...where.args, ...where.args, ...query.key ?? [], query.limit, query.key ? 0 : query.offset])
  if (!rows.length) {
    const [total] = await readRows(counted, where.args)
    return { total: Number(total?.[0] ?? 0), rows: [] }
  }
  return { total: Number(rows[0]![0]), rows: rows.map(toUserPageRow) }
}

function toUserPageRow(row: unknown[]): UserPageRow {
  const [, id, email, fullName, role, active, supervisorId, totpEnabled, isDemo, phone, phoneVerifiedAt, bio, preferences,
    mustChangePassword, createdAt, lastActiveAt, conversationCount, sortName, lastConversationAt, extraRoles] = row
  return {
    id: id as string,
    email: email as string,
    fullName: fullName as string,
    role: role as User['role'],
    active: Boolean(active),
    supervisorId: supervisorId as string | null,
    totpEnabled: Boolean(totpEnabled),
    isDemo: Boolean(isDemo),
    phone: phone as string | null,
    phoneVerifiedAt: epochDateOrNull(phoneVerifiedAt),
    bio: bio as string | null,
    preferences: jsonValue(preferences) as User['preferences'],
    mustChangePassword: Boolean(mustChangePassword),
    createdAt: epochDate(createdAt),
    lastActiveAt: epochDateOrNull(lastActiveAt),
    conversationCount: Number(conversationCount),
    sortName: sortName as string,
    lastConversationAt: epochDateOrNull(lastConversationAt),
    extraRoles: (jsonValue(extraRoles) as Array<[string, string, unknown]>).map(([roleId, name, permissions]) =>
      ({ id: roleId, name, permissions: Array.isArray(permissions) ? permissions as string[] : [] })),
  }
}
