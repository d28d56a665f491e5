import * as v from 'valibot'
import { charCount } from './text'

/** valibot: at most `max` characters (code points), with the API's usual message. */
export const maxChars = (max: number, message = `must be at most ${max} characters`) =>
  // a text no longer than `max` UTF-16 units has at most `max` characters: no count needed
  v.check<string, string>(text => text.length <= max || charCount(text) <= max, message)

/**
 * A field that must be a JSON object: valibot's object schemas also take an array (its indexes as keys), so `[]`
 * would pass for an object whose fields are all optional.
 */
export const JsonObject = <S extends v.GenericSchema<Record<string, unknown>>>(schema: S) =>
  v.pipe(v.custom<Record<string, unknown>>(input => !Array.isArray(input), 'must be a JSON object'), schema)

/** API ids are UUIDs (v7 for new rows); anything else is malformed. */
export const Id = v.pipe(v.string('must be a string'), v.uuid('must be a valid id'))

export const Email = v.pipe(
  v.string('must be a string'),
  v.trim(),
  v.toLowerCase(),
  maxChars(254),
  v.email('must be a valid email address'),
)
export const Password = v.pipe(v.string('must be a string'), v.minLength(1, 'is required'), maxChars(256))
export const NewPassword = v.pipe(v.string('must be a string'), maxChars(256))
export const FullName = v.pipe(v.string('must be a string'), v.trim(), v.minLength(1, 'is required'), maxChars(120))
export const OtpCode = v.pipe(v.string('must be a string'), v.trim(), v.minLength(6, 'must be a 6-digit code or a recovery code'), v.maxLength(32, 'must be a 6-digit code or a recovery code'))
export const RoleName = v.picklist(['admin', 'supervisor', 'worker'], 'must be admin, supervisor or worker')

export const LoginBody = v.strictObject({ email: Email, password: Password, totpCode: v.optional(OtpCode) })
export const Verify2faBody = v.strictObject({ challenge: v.pipe(v.string('must be a string'), v.minLength(1, 'must not be empty'), v.maxLength(200, 'is invalid')), code: OtpCode })
export const RegisterBody = v.strictObject({ email: Email, password: NewPassword, fullName: FullName })
/** The secret of a mailed link (`?token=`): 43 URL-safe characters today; anything far off is not one. */
const LinkToken = v.pipe(v.string('must be a string'), v.trim(), v.minLength(16, 'is not a valid link'), v.maxLength(200, 'is not a valid link'), v.regex(/^[\w-]+$/, 'is not a valid link'))
export const VerifyEmailBody = v.strictObject({ token: LinkToken })
export const ForgotPasswordBody = v.strictObject({ email: Email })
export const ResetPasswordBody = v.strictObject({ token: LinkToken, newPassword: NewPassword })
export const ChangePasswordBody = v.strictObject({ currentPassword: Password, newPassword: NewPassword })
export const PasswordBody = v.strictObject({ password: Password })
export const CodeBody = v.strictObject({ code: OtpCode })
export const Disable2faBody = v.strictObject({ password: Password, code: OtpCode })
export const CreateTokenBody = v.strictObject({
  /** Re-authentication: a stolen session alone cannot mint a long-lived credential. */
  password: Password,
  name: v.pipe(v.string('must be a string'), v.trim(), v.minLength(1, 'is required'), maxChars(80)),
  expiresInDays: v.optional(v.pipe(v.number('must be a number'), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'), v.maxValue(3650, 'must be at most 3650'))),
})

/** A whole-number query parameter within `min`..`max` (a negative one is told the lower bound, not "not a number"). */
export const WholeParam = (min: number, max: number, tooLarge = `must be at most ${max}`) =>
  v.pipe(v.string(), v.regex(/^-?\d+$/, 'must be a whole number'), v.transform(Number), v.minValue(min, `must be at least ${min}`), v.maxValue(max, tooLarge))

/** Pagination query: `limit` 1..100 (default 50), `offset` ≥ 0. */
export const Paging = {
  limit: v.optional(WholeParam(1, 100), '50'),
  offset: v.optional(WholeParam(0, 1e9, 'is too large'), '0'),
}

/** An opaque keyset cursor from a list's `nextCursor` (base64url). */
export const Cursor = v.optional(v.pipe(v.string('must be a string'), v.maxLength(1000, 'is not a valid cursor'), v.regex(/^[\w-]+$/, 'is not a valid cursor')))

const Bool = (what = 'must be true or false') => v.boolean(what)
const Title = v.pipe(v.string('must be a string'), v.trim(), v.minLength(1, 'must not be empty'), maxChars(200))
/** Upper bound of any chat message; the admin setting `maxMessageChars` (≤ 100000) is checked by the server. */
export const MESSAGE_HARD_MAX = 100_000

export const ChatBody = v.strictObject({
  message: v.optional(v.pipe(
    v.string('must be a string'),
    v.check(s => s.trim().length > 0, 'must not be empty'),
    maxChars(MESSAGE_HARD_MAX),
  )),
  conversationId: v.optional(Id),
  model: v.optional(v.pipe(v.string('must be a string'), v.trim(), v.minLength(1, 'must not be empty'), maxChars(200))),
  systemPromptId: v.optional(Id),
  regenerate: v.optional(Bool()),
  /** Edit-and-resend: this user message of the conversation takes `message` as its text; what came after it goes. */
  editMessageId: v.optional(Id),
  /** The offline outbox's own id for this message: a repeat of a send the server already saved is not saved again. */
  clientId: v.optional(Id),
})
export type ChatRequest = v.InferInput<typeof ChatBody>

export const CreateConversationBody = v.strictObject({ title: v.optional(Title), systemPromptId: v.optional(Id) })
export const UpdateConversationBody = v.strictObject({ title: v.optional(Title), pinned: v.optional(Bool()), archived: v.optional(Bool()) })

const QueryBool = v.pipe(v.picklist(['true', 'false'], 'must be true or false'), v.transform(s => s === 'true'))
export const ConversationListQuery = v.object({
  ...Paging,
  q: v.optional(v.pipe(v.string('must be a string'), v.trim(), maxChars(200))),
  userId: v.optional(Id),
  archived: v.optional(QueryBool),
  cursor: Cursor,
})
/** `offset` skips that many of the newest messages (after `before`, when given): pages back like `before` does. */
export const MessagesQuery = v.object({ limit: Paging.limit, offset: Paging.offset, before: v.optional(Id), includeTools: v.optional(QueryBool) })
/** An IANA time zone name that this runtime knows ("America/Santiago"). */
export function isTimeZone(value: string) {
  try { new Intl.DateTimeFormat('en', { timeZone: value }); return true }
  catch { return false }
}
export const ExportQuery = v.object({
  format: v.optional(v.picklist(['md', 'json'], 'must be md or json'), 'md'),
  // the Markdown's dates in the reader's time zone (the app sends the browser's); UTC without it
  tz: v.optional(v.pipe(v.string(), v.maxLength(64, 'must be a time zone such as America/Santiago'), v.check(isTimeZone, 'must be a time zone such as America/Santiago')), 'UTC'),
})
