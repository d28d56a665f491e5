import { sql } from 'drizzle-orm'
import { index, integer, primaryKey, sqliteTable, text, uniqueIndex } from 'drizzle-orm/sqlite-core'

// Same export names and column names as ./pg.ts; tests/unit/schema.test.ts proves they match.
const id = () => text('id').primaryKey()
const at = (name: string) => integer(name, { mode: 'timestamp_ms' })
const flag = (name: string) => integer(name, { mode: 'boolean' })
const createdAt = () => at('created_at').notNull().default(sql`(unixepoch() * 1000)`)

export const users = sqliteTable('users', {
  id: id(),
  email: text('email').notNull(),
  passwordHash: text('password_hash').notNull(),
  fullName: text('full_name').notNull(),
  role: text('role', { enum: ['admin', 'supervisor', 'worker'] }).notNull().default('worker'),
  active: flag('active').notNull().default(true),
  supervisorId: text('supervisor_id'),
  totpSecret: text('totp_secret'),
  totpEnabled: flag('totp_enabled').notNull().default(false),
  totpLastStep: integer('totp_last_step'),
  isDemo: flag('is_demo').notNull().default(false),
  phone: text('phone'),
  phoneVerifiedAt: at('phone_verified_at'),
  bio: text('bio'),
  preferences: text('preferences', { mode: 'json' }).$type<Record<string, unknown>>(),
  mustChangePassword: flag('must_change_password').notNull().default(false),
  emailVerifiedAt: at('email_verified_at'),
  createdAt: createdAt(),
  lastActiveAt: at('last_active_at'),
  /** The user's conversations, and how many of them are archived: kept by triggers on `conversations` (migration 0008). */
  conversationCount: integer('conversation_count').notNull().default(0),
  archivedConversationCount: integer('archived_conversation_count').notNull().default(0),
}, t => [
  uniqueIndex('users_email_unique').on(t.email),
  index('users_supervisor_idx').on(t.supervisorId),
  // a verified number is one person's: the SMS channel finds the user by it. The unique index holds that for
  // verifications at once, in one app process or several (services/admin-users.ts storeVerifiedPhone: 409)
  index('users_phone_idx').on(t.phone),
  uniqueIndex('users_verified_phone_unique').on(t.phone).where(sql`phone_verified_at is not null`),
])

export const sessions = sqliteTable('sessions', {
  id: id(),
  tokenHash: text('token_hash').notNull(),
  userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  ip: text('ip'),
  userAgent: text('user_agent'),
  createdAt: createdAt(),
  lastSeenAt: at('last_seen_at').notNull(),
  expiresAt: at('expires_at').notNull(),
  revokedAt: at('revoked_at'),
}, t => [
  uniqueIndex('sessions_token_hash_unique').on(t.tokenHash),
  index('sessions_user_idx').on(t.userId),
])

export const recoveryCodes = sqliteTable('recovery_codes', {
  id: id(),
  userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  codeHash: text('code_hash').notNull(),
  usedAt: at('used_at'),
  createdAt: createdAt(),
}, t => [index('recovery_codes_user_idx').on(t.userId)])

export const apiTokens = sqliteTable('api_tokens', {
  id: id(),
  userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  name: text('name').notNull(),
  tokenHash: text('token_hash').notNull(),
  lastUsedAt: at('last_used_at'),
  expiresAt: at('expires_at'),
  createdAt: createdAt(),
}, t => [
  uniqueIndex('api_tokens_hash_unique').on(t.tokenHash),
  index('api_tokens_user_idx').on(t.userId),
])

export const systemPrompts = sqliteTable('system_prompts', {
  id: id(),
  name: text('name').notNull(),
  content: text('content').notNull(),
  isDefault: flag('is_default').notNull().default(false),
  createdAt: createdAt(),
  updatedAt: at('updated_at').notNull(),
})

export const conversations = sqliteTable('conversations', {
  id: id(),
  userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  title: text('title').notNull(),
  model: text('model').notNull(),
  systemPromptId: text('system_prompt_id').references(() => systemPrompts.id, { onDelete: 'set null' }),
  pinned: flag('pinned').notNull().default(false),
  archived: flag('archived').notNull().default(false),
  /** Where the conversation happens: the web chat, or a user's SMS/WhatsApp thread (answered by the SMS channel). */
  channel: text('channel', { enum: ['web', 'sms'] }).notNull().default('web'),
  /** When the owner last looked at who opened the conversation (its access log); later reads show a dot. */
  accessSeenAt: at('access_seen_at'),
  /** Messages shown in the conversation (tool calls not counted): kept by database triggers (migration 0005). */
  messageCount: integer('message_count').notNull().default(0),
  createdAt: createdAt(),
  updatedAt: at('updated_at').notNull(),
}, t => [
  index('conversations_user_updated_idx').on(t.userId, t.updatedAt),
  // the sidebar's order (pinned first, newest first) as an index: keyset pages read only the rows they return
  index('conversations_user_list_idx').on(t.userId, t.pinned, t.updatedAt, t.id),
  // admin stats count the conversations created in a date range
  index('conversations_created_idx').on(t.createdAt),
  // a team's admin stats: conversations its members started in the range, from the index alone
  index('conversations_user_created_idx').on(t.userId, t.createdAt),
])

export const messages = sqliteTable('messages', {
  id: id(),
  conversationId: text('conversation_id').notNull().references(() => conversations.id, { onDelete: 'cascade' }),
  role: text('role', { enum: ['user', 'assistant', 'system', 'tool'] }).notNull(),
  /**
   * Who wrote a user message: the conversation's owner when it was sent, who stays its author after a reassignment.
   * Null for the model's rows, and on user messages from before this column (migration message_authors): those are
   * the owner's. No foreign key: a deleted writer's id stays, and names no one (docs/api.md `author: null`).
   */
  authorId: text('author_id'),
  content: text('content').notNull(),
  status: text('status', { enum: ['complete', 'stopped', 'error'] }).notNull().default('complete'),
  model: text('model'),
  promptTokens: integer('prompt_tokens'),
  completionTokens: integer('completion_tokens'),
  firstTokenMs: integer('first_token_ms'),
  durationMs: integer('duration_ms'),
  createdAt: createdAt(),
}, t => [
  index('messages_conversation_created_idx').on(t.conversationId, t.createdAt),
  // admin stats scan a date range of messages
  index('messages_created_idx').on(t.createdAt),
])

export const settings = sqliteTable('settings', {
  key: text('key').primaryKey(),
  value: text('value', { mode: 'json' }).notNull(),
})

export const auditEvents = sqliteTable('audit_events', {
  id: id(),
  at: at('at').notNull(),
  actorId: text('actor_id'),
  action: text('action').notNull(),
  targetType: text('target_type'),
  targetId: text('target_id'),
  ip: text('ip'),
  userAgent: text('user_agent'),
  meta: text('meta', { mode: 'json' }),
}, t => [
  index('audit_events_at_idx').on(t.at),
  index('audit_events_actor_idx').on(t.actorId),
  // a conversation's access log (who opened it) looks events up by target
  index('audit_events_target_idx').on(t.targetId, t.at),
])

/** Custom roles (the three built-in roles are code: shared/permissions.ts). */
export const roles = sqliteTable('roles', {
  id: id(),
  name: text('name').notNull(),
  description: text('description').notNull().default(''),
  permissions: text('permissions', { mode: 'json' }).$type<string[]>().notNull(),
  createdAt: createdAt(),
  updatedAt: at('updated_at').notNull(),
}, t => [uniqueIndex('roles_name_unique').on(t.name)])

/** Extra roles of a user, on top of the built-in `users.role`. */
export const userRoles = sqliteTable('user_roles', {
  id: id(),
  userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  roleId: text('role_id').notNull().references(() => roles.id, { onDelete: 'cascade' }),
}, t => [
  uniqueIndex('user_roles_user_role_unique').on(t.userId, t.roleId),
  index('user_roles_role_idx').on(t.roleId),
])

/** Single-use links mailed to a user (confirm the address, reset the password); only the hash is kept. */
export const emailTokens = sqliteTable('email_tokens', {
  id: id(),
  userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  purpose: text('purpose', { enum: ['verify-email', 'reset-password'] }).notNull(),
  tokenHash: text('token_hash').notNull(),
  expiresAt: at('expires_at').notNull(),
  usedAt: at('used_at'),
  createdAt: createdAt(),
}, t => [
  uniqueIndex('email_tokens_hash_unique').on(t.tokenHash),
  index('email_tokens_user_idx').on(t.userId),
])

/** A phone number waiting for its SMS code (hashed); 5 wrong codes or 10 minutes end the attempt. */
export const phoneCodes = sqliteTable('phone_codes', {
  id: id(),
  userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  phone: text('phone').notNull(),
  codeHash: text('code_hash').notNull(),
  attempts: integer('attempts').notNull().default(0),
  expiresAt: at('expires_at').notNull(),
  usedAt: at('used_at'),
  createdAt: createdAt(),
}, t => [index('phone_codes_user_idx').on(t.userId)])

/** Messages between people. A deleted account leaves its messages to others, from nobody (null). */
export const dms = sqliteTable('dms', {
  id: id(),
  senderId: text('sender_id').references(() => users.id, { onDelete: 'set null' }),
  recipientId: text('recipient_id').references(() => users.id, { onDelete: 'set null' }),
  threadId: text('thread_id').notNull(),
  parentId: text('parent_id'),
  content: text('content').notNull(),
  readAt: at('read_at'),
  editedAt: at('edited_at'),
  createdAt: createdAt(),
}, t => [
  index('dms_recipient_read_created_idx').on(t.recipientId, t.readAt, t.createdAt),
  // the received box, newest first (read_at in the index above would force a sort of every received message)
  index('dms_recipient_created_idx').on(t.recipientId, t.createdAt),
  index('dms_sender_created_idx').on(t.senderId, t.createdAt),
  index('dms_thread_created_idx').on(t.threadId, t.createdAt),
])

/** "Deleted from my view": the other participant keeps their copy. */
export const dmHidden = sqliteTable('dm_hidden', {
  id: id(),
  dmId: text('dm_id').notNull().references(() => dms.id, { onDelete: 'cascade' }),
  userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  // set once when hidden, and never changing after (a hidden message can no longer be read): the caller's totals
  // and unread count subtract index counts of these instead of joining every hidden row to its message
  /** The hider was the recipient (else the sender). */
  received: flag('received').notNull().default(false),
  /** It was unread for the hider when hidden. */
  unread: flag('unread').notNull().default(false),
}, t => [
  uniqueIndex('dm_hidden_dm_user_unique').on(t.dmId, t.userId),
  index('dm_hidden_user_idx').on(t.userId, t.received, t.unread),
])

/**
 * Sends the offline outbox made with its own id (`clientId`): a send repeated because its answer never reached the
 * device (the app closed, the network dropped) finds what the first one created instead of creating it twice.
 */
export const clientSends = sqliteTable('client_sends', {
  userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  clientId: text('client_id').notNull(),
  /** What the send created: `chat` (the question's message id), `dm`, `report`. */
  kind: text('kind', { enum: ['chat', 'dm', 'report'] }).notNull(),
  targetId: text('target_id').notNull(),
  createdAt: createdAt(),
}, t => [primaryKey({ columns: [t.userId, t.clientId] })])

/** Reports (incidencias) filed by anyone and handled by staff in scope. */
export const reports = sqliteTable('reports', {
  id: id(),
  reporterId: text('reporter_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  title: text('title').notNull(),
  content: text('content').notNull(),
  status: text('status', { enum: ['open', 'in_progress', 'resolved'] }).notNull().default('open'),
  resolvedAt: at('resolved_at'),
  resolvedBy: text('resolved_by').references(() => users.id, { onDelete: 'set null' }),
  /** Null: filed by the reporter in the app (or the API); `assistant` / `sms`: the assistant filed it for them, on the web or by SMS. */
  filedVia: text('filed_via', { enum: ['assistant', 'sms'] }),
  createdAt: createdAt(),
  updatedAt: at('updated_at').notNull(),
}, t => [
  index('reports_reporter_created_idx').on(t.reporterId, t.createdAt),
  index('reports_status_created_idx').on(t.status, t.createdAt),
])

export const reportComments = sqliteTable('report_comments', {
  id: id(),
  reportId: text('report_id').notNull().references(() => reports.id, { onDelete: 'cascade' }),
  authorId: text('author_id').references(() => users.id, { onDelete: 'set null' }),
  content: text('content').notNull(),
  status: text('status', { enum: ['open', 'in_progress', 'resolved'] }),
  createdAt: createdAt(),
}, t => [index('report_comments_report_created_idx').on(t.reportId, t.createdAt)])

/**
 * Durable background work (server/services/jobs.ts): claimed with a lease, retried with back-off, resumed after a
 * restart. `dedupe_key` makes an enqueue idempotent (a Twilio MessageSid is processed once).
 */
export const jobs = sqliteTable('jobs', {
  id: id(),
  kind: text('kind').notNull(),
  payload: text('payload', { mode: 'json' }).$type<Record<string, unknown>>().notNull(),
  status: text('status', { enum: ['pending', 'running', 'done', 'failed'] }).notNull().default('pending'),
  attempts: integer('attempts').notNull().default(0),
  runAt: at('run_at').notNull(),
  leaseUntil: at('lease_until'),
  lastError: text('last_error'),
  dedupeKey: text('dedupe_key'),
  createdAt: createdAt(),
  updatedAt: at('updated_at').notNull(),
}, t => [
  uniqueIndex('jobs_dedupe_key_unique').on(t.dedupeKey),
  index('jobs_status_run_at_idx').on(t.status, t.runAt),
  // Admin → Canales: the newest jobs of a kind
  index('jobs_kind_created_idx').on(t.kind, t.createdAt),
])

/**
 * Admin stats rollups, kept in step with `messages` by database triggers (custom migration 0005), so stats read
 * a few rows per day instead of every message. `day` is the UTC day number (days since 1970-01-01).
 * Per day and conversation owner: the user's and the assistant's messages counted (tool calls not, since migration
 * 0012 on SQLite, 0013 on PostgreSQL), tokens summed over all.
 */
export const usageDaily = sqliteTable('usage_daily', {
  day: integer('day').notNull(),
  userId: text('user_id').notNull(),
  messages: integer('messages').notNull().default(0),
  promptTokens: integer('prompt_tokens').notNull().default(0),
  completionTokens: integer('completion_tokens').notNull().default(0),
}, t => [primaryKey({ columns: [t.day, t.userId] })])

/** Per day, how many answers had each first-token latency (ms): exact medians from a histogram. */
export const latencyDaily = sqliteTable('latency_daily', {
  day: integer('day').notNull(),
  ms: integer('ms').notNull(),
  answers: integer('answers').notNull().default(0),
}, t => [primaryKey({ columns: [t.day, t.ms] })])

/**
 * Per conversation owner and day, how many answers had each first-token latency (ms): a team's exact medians
 * from its members' histograms (custom migration 0010). Keyed by owner first, so a team's range is one index
 * range per member. Like `usage_daily`, counted by the conversation's current owner.
 */
export const latencyUserDaily = sqliteTable('latency_user_daily', {
  day: integer('day').notNull(),
  userId: text('user_id').notNull(),
  ms: integer('ms').notNull(),
  answers: integer('answers').notNull().default(0),
}, t => [primaryKey({ columns: [t.userId, t.day, t.ms] })])

/**
 * Per conversation owner and day, that day's latency histogram packed into one `ms:answers,…` string (answers > 0;
 * '' when none), rebuilt from `latency_user_daily` by a trigger on it (custom migration 0011): a team's month is
 * one row per person-day instead of ~75, the same packing the company-wide histogram gets when it is read.
 */
export const latencyUserHistogram = sqliteTable('latency_user_histogram', {
  userId: text('user_id').notNull(),
  day: integer('day').notNull(),
  histogram: text('histogram').notNull().default(''),
}, t => [primaryKey({ columns: [t.userId, t.day] })])
