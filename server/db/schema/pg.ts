import { boolean, index, integer, jsonb, pgTable, text, timestamp, uniqueIndex } from 'drizzle-orm/pg-core'

// Same export names and column names as ./sqlite.ts; tests/unit/schema.test.ts proves they match.
const id = () => text('id').primaryKey()
const at = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' })
const flag = (name: string) => boolean(name)
const createdAt = () => at('created_at').notNull().defaultNow()

export const users = pgTable('users', {
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
  createdAt: createdAt(),
  lastActiveAt: at('last_active_at'),
}, t => [
  uniqueIndex('users_email_unique').on(t.email),
  index('users_supervisor_idx').on(t.supervisorId),
])

export const sessions = pgTable('sessions', {
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

export const recoveryCodes = pgTable('recovery_codes', {
  id: id(),
  userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  codeHash: text('code_hash').notNull(),
  usedAt: at('used_at'),
  createdAt: createdAt(),
}, t => [index('recovery_codes_user_idx').on(t.userId)])

export const apiTokens = pgTable('api_tokens', {
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

export const systemPrompts = pgTable('system_prompts', {
  id: id(),
  name: text('name').notNull(),
  content: text('content').notNull(),
  isDefault: flag('is_default').notNull().default(false),
  createdAt: createdAt(),
  updatedAt: at('updated_at').notNull(),
})

export const conversations = pgTable('conversations', {
  id: id(),
  userId: text('user_id').notNull().references(() => users.id, { onDelete: 'cascade' }),
  title: text('title').notNull(),
  model: text('model').notNull(),
  systemPromptId: text('system_prompt_id').references(() => systemPrompts.id, { onDelete: 'set null' }),
  pinned: flag('pinned').notNull().default(false),
  archived: flag('archived').notNull().default(false),
  createdAt: createdAt(),
  updatedAt: at('updated_at').notNull(),
}, t => [index('conversations_user_updated_idx').on(t.userId, t.updatedAt)])

export const messages = pgTable('messages', {
  id: id(),
  conversationId: text('conversation_id').notNull().references(() => conversations.id, { onDelete: 'cascade' }),
  role: text('role', { enum: ['user', 'assistant', 'system'] }).notNull(),
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

export const settings = pgTable('settings', {
  key: text('key').primaryKey(),
  value: jsonb('value').notNull(),
})

export const auditEvents = pgTable('audit_events', {
  id: id(),
  at: at('at').notNull(),
  actorId: text('actor_id'),
  action: text('action').notNull(),
  targetType: text('target_type'),
  targetId: text('target_id'),
  ip: text('ip'),
  userAgent: text('user_agent'),
  meta: jsonb('meta'),
}, t => [
  index('audit_events_at_idx').on(t.at),
  index('audit_events_actor_idx').on(t.actorId),
  // a conversation's access log (who opened it) looks events up by target
  index('audit_events_target_idx').on(t.targetId, t.at),
])
