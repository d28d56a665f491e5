/** API shapes shared by the server and the stores (API.md). */
import type { Preferences } from './account'
import type { StreamErrorReason } from './errors'
import type { BuiltInRole, Permission } from './permissions'

export type Role = BuiltInRole

export interface ApiUser {
  id: string
  email: string
  fullName: string
  /** The built-in access level. */
  role: Role
  /** Names of the extra (custom) roles. */
  roles: string[]
  /** The effective permissions: built-in role ∪ extra roles. */
  permissions: Permission[]
  phone: string | null
  phoneVerified: boolean
  bio: string
  /** Theme, default model and custom instructions (own account only). */
  preferences: Preferences
  /** Set on admin-created accounts and admin resets: the app holds the user until they choose a password. */
  mustChangePassword: boolean
  active: boolean
  totpEnabled: boolean
  supervisorId: string | null
  createdAt: string
  lastActiveAt: string | null
  /** Set when REQUIRE_2FA_ROLES says this user must enrol TOTP before using the app. */
  mustEnrol2fa?: boolean
  isDemo?: boolean
}

export interface ApiSession { id: string, ip: string | null, userAgent: string | null, createdAt: string, lastSeenAt: string, current: boolean }
export interface ApiToken { id: string, name: string, createdAt: string, lastUsedAt: string | null, expiresAt: string | null }

export interface PublicConfig {
  registrationOpen: boolean
  /** SMTP is configured: sign-ups confirm their email, and a forgotten password can be reset by mail. */
  emailEnabled: boolean
  demoAccounts: Array<{ email: string, password: string, role: Role }>
  defaultModel: string
  /** Signed-in callers only. */
  models?: string[]
  maxMessageChars: number
}

export interface ApiError { statusCode: number, message: string, data?: { fields?: Record<string, string> } & Record<string, unknown> }

/** A conversation as the Conversations routes answer it. */
export interface ApiConversation {
  id: string
  userId: string
  title: string
  model: string | null
  systemPromptId: string | null
  pinned: boolean
  archived: boolean
  /** Present (`sms`) only on the user's SMS/WhatsApp thread, answered by the SMS channel (read-only on the web). */
  channel?: 'sms'
  messageCount: number
  createdAt: string
  updatedAt: string
  /** Only in a `q` search: the excerpt of the newest matching message, null when only the title matched. */
  snippet?: ApiSnippet | null
}

/** Plain text (never HTML) and the UTF-16 [start, end) ranges of the matched words in it. */
export interface ApiSnippet { text: string, highlights: Array<[number, number]> }

/** `tool`: a call the assistant made and its result (JSON `{round, name, arguments, result}` in `content`). */
export type MessageRole = 'user' | 'assistant' | 'system' | 'tool'
export type MessageStatus = 'complete' | 'stopped' | 'error'

export interface ApiMessage {
  id: string
  conversationId: string
  role: MessageRole
  content: string
  status: MessageStatus
  model: string | null
  usage: { promptTokens: number | null, completionTokens: number | null, firstTokenMs?: number | null, durationMs?: number | null } | null
  createdAt: string
  /**
   * Only on a user message that someone other than the conversation's current owner wrote (before a reassignment):
   * who, or null once that account is deleted. The owner's own messages and the model's have none.
   */
  author?: { id: string, fullName: string } | null
  /**
   * Only on an answer the assistant gave after calling tools (`GET /api/conversations/:id/messages` without
   * `includeTools`): those calls in order, so that the chat shows them again after a reload.
   */
  tools?: ApiToolCall[]
}

/**
 * An assistant tool call as the chat shows it. `reportId`: the one report it filed, read or changed (a link beside
 * the line); absent for a list, a failed call or another tool.
 */
export interface ApiToolCall { name: string, status: ToolStatus, reportId?: string }

export interface ApiList<T> { total: number, data: T[] }
/** A list that also pages by keyset: pass `nextCursor` back as `?cursor=` (null on the last page). */
export interface ApiCursorList<T> extends ApiList<T> { nextCursor: string | null }
export interface ApiModel { name: string, size: number, family: string | null, parameterSize: string | null }
/** One model server of the pool, as Admin → Modelo shows it (`GET /api/admin/model-servers`). */
/**
 * Why a model server last failed: `unreachable` (no connection; see lastErrorCode), `http-status` (it answered an
 * error; see lastErrorStatus, lastErrorDetail), `timeout` (no answer in time), `other` (only lastError says it).
 * Clients show lastError as it is for a code they do not know (more may be added).
 */
export type ModelErrorReason = 'unreachable' | 'http-status' | 'timeout' | 'other'
export interface ApiModelServer {
  id: string
  kind: 'ollama' | 'openai'
  /** Without credentials. */
  url: string
  state: 'unknown' | 'healthy' | 'down'
  /** English text (logs); the UI words `lastErrorReason` instead. */
  lastError: string | null
  /** Null exactly when lastError is. */
  lastErrorReason: ModelErrorReason | null
  /** The HTTP status it answered (`http-status` only). */
  lastErrorStatus: number | null
  /** The network error's code, e.g. ECONNREFUSED (`unreachable` only). */
  lastErrorCode: string | null
  /** The server's own message with the status, as it sent it (`http-status` only; at most 200 characters). */
  lastErrorDetail: string | null
  lastCheckAt: string | null
  models: string[]
  /** Answers (and titles) in flight on it from this app process. */
  load: number
}
export interface ApiSystemPromptOption { id: string, name: string, isDefault: boolean }

export interface Usage { promptTokens: number, completionTokens: number }

export type ToolStatus = 'running' | 'done' | 'error'

/** Server-sent events of `POST /api/chat`, by event name. */
export interface ChatEvents {
  meta: { conversationId: string, userMessageId: string, model: string }
  queue: { position: number }
  token: { t: string }
  /** `reportId` on `done` of a call about one report (API.md "Assistant tools"). */
  tool: { name: string, status: ToolStatus, reportId?: string }
  title: { title: string }
  done: { assistantMessageId: string, finishReason: string, usage: Usage | null, durationMs: number }
  /** `reason` is a stable code the UI translates (shared/errors.ts); `message` is for logs. */
  error: { message: string, reason?: StreamErrorReason, assistantMessageId?: string }
}
export type ChatEventName = keyof ChatEvents
