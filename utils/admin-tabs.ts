import type { Permission } from '#shared/permissions'

// apart from the admin store: the sign-in middleware (entry chunk) needs the tabs, not the store
/** The people panel (users → conversations → messages) opens for any of these. */
export const PEOPLE_PERMISSIONS: readonly Permission[] = ['users.read', 'users.manage', 'conversations.read.team', 'conversations.read.all']

/** The admin panel's tabs and the permissions each one's page asks for (any of). */
export const ADMIN_TABS: ReadonlyArray<{ to: string, key: string, permissions: readonly Permission[] }> = [
  { to: '/admin', key: 'panel', permissions: PEOPLE_PERMISSIONS },
  { to: '/admin/users', key: 'users', permissions: ['users.manage'] },
  { to: '/admin/roles', key: 'roles', permissions: ['roles.manage'] },
  { to: '/admin/audit', key: 'audit', permissions: ['audit.read'] },
  { to: '/admin/prompts', key: 'prompts', permissions: ['settings.manage'] },
  { to: '/admin/model', key: 'model', permissions: ['settings.manage'] },
  { to: '/admin/stats', key: 'stats', permissions: ['conversations.read.team', 'conversations.read.all'] },
  { to: '/admin/reports', key: 'reports', permissions: ['reports.manage'] },
  { to: '/admin/channels', key: 'channels', permissions: ['channels.manage'] },
]
