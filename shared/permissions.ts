/**
 * The permission model (API.md "Roles and permissions"): a fixed catalogue of permissions, three built-in
 * roles as data, and custom roles (stored) that add permissions. Everything that gates an action — server
 * guards, the scope module, stores, pages, navigation — asks "may this user do P?", never "is the role X?".
 */

export const PERMISSIONS = [
  'chat.use',
  'messages.use',
  'reports.create',
  'reports.manage',
  'conversations.read.team',
  'conversations.read.all',
  'conversations.reassign',
  'users.read',
  'users.manage',
  'audit.read',
  'settings.manage',
  'roles.manage',
  'channels.manage',
] as const

export type Permission = typeof PERMISSIONS[number]

/** The built-in access levels: every user has exactly one (`users.role`). */
export const BUILT_IN_ROLES = ['admin', 'supervisor', 'worker'] as const
export type BuiltInRole = typeof BUILT_IN_ROLES[number]

const WORKER: readonly Permission[] = ['chat.use', 'messages.use', 'reports.create']
const SUPERVISOR: readonly Permission[] = [...WORKER, 'conversations.read.team', 'conversations.reassign', 'users.read', 'reports.manage']

/** Built-in roles: fixed ids (opaque to clients), permissions and reach. Not editable, not deletable. */
export const BUILT_IN: Record<BuiltInRole, { id: string, permissions: readonly Permission[] }> = {
  admin: { id: '00000000-0000-7000-8000-0000000000a1', permissions: PERMISSIONS },
  supervisor: { id: '00000000-0000-7000-8000-0000000000a2', permissions: SUPERVISOR },
  worker: { id: '00000000-0000-7000-8000-0000000000a3', permissions: WORKER },
}

export const isPermission = (name: string): name is Permission => (PERMISSIONS as readonly string[]).includes(name)
export const isBuiltInRole = (name: string): name is BuiltInRole => (BUILT_IN_ROLES as readonly string[]).includes(name)

/**
 * The effective permissions of a built-in role plus extra roles' permission lists. Unknown names (a stale
 * row, a typo) grant nothing.
 */
export function effectivePermissions(role: string, extra: ReadonlyArray<readonly string[]> = []): Permission[] {
  const granted = new Set<Permission>(isBuiltInRole(role) ? BUILT_IN[role].permissions : [])
  for (const list of extra) for (const name of list) if (isPermission(name)) granted.add(name)
  return PERMISSIONS.filter(p => granted.has(p))
}

/** How far a user's reach goes for the `.team`/`.all` permissions of one area. */
export type Reach = 'all' | 'team' | 'self'

/** Whose conversations (and users, reports) a permission set reaches. */
export function conversationReach(permissions: readonly Permission[]): Reach {
  if (permissions.includes('conversations.read.all')) return 'all'
  if (permissions.includes('conversations.read.team')) return 'team'
  return 'self'
}

/** Permission groups, in the order the roles editor shows them (labels live in i18n). */
export const PERMISSION_GROUPS: ReadonlyArray<{ key: string, permissions: readonly Permission[] }> = [
  { key: 'basics', permissions: ['chat.use', 'messages.use', 'reports.create'] },
  { key: 'team', permissions: ['conversations.read.team', 'conversations.reassign', 'users.read', 'reports.manage'] },
  { key: 'admin', permissions: ['conversations.read.all', 'users.manage', 'audit.read', 'settings.manage', 'roles.manage', 'channels.manage'] },
]
