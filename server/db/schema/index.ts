import * as pg from './pg'
import * as sqlite from './sqlite'

/** The dialect is configuration: `postgres://` URLs pick PostgreSQL, anything else libSQL. */
export const isPostgresUrl = (url: string) => /^postgres(ql)?:\/\//.test(url)
export const dialect: 'pg' | 'sqlite' = isPostgresUrl(process.env.DATABASE_URL ?? '') ? 'pg' : 'sqlite'

// Services are written once against the SQLite types; both schemas have identical names and shapes.
const schema = (dialect === 'pg' ? pg : sqlite) as unknown as typeof sqlite

export const {
  users, sessions, recoveryCodes, apiTokens, systemPrompts, conversations, messages, settings, auditEvents,
  roles, userRoles, emailTokens, phoneCodes, dms, dmHidden, reports, reportComments, jobs, usageDaily, latencyDaily,
  latencyUserDaily, latencyUserHistogram, clientSends,
} = schema
export { schema }

export type User = typeof sqlite.users.$inferSelect
export type Session = typeof sqlite.sessions.$inferSelect
export type Conversation = typeof sqlite.conversations.$inferSelect
export type Message = typeof sqlite.messages.$inferSelect
export type SystemPrompt = typeof sqlite.systemPrompts.$inferSelect
export type AuditEvent = typeof sqlite.auditEvents.$inferSelect
export type Role = User['role']
export type CustomRole = typeof sqlite.roles.$inferSelect
export type Dm = typeof sqlite.dms.$inferSelect
export type Report = typeof sqlite.reports.$inferSelect
export type ReportComment = typeof sqlite.reportComments.$inferSelect
export type Job = typeof sqlite.jobs.$inferSelect
