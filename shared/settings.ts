import * as v from 'valibot'
import { JsonObject } from './schemas'

/**
 * Model settings an admin can change at runtime (API.md `/api/admin/settings`): the server validates requests and the
 * stored row with it, and the admin panel's form is typed by it.
 */
export const AppSettingsSchema = v.strictObject({
  defaultModel: v.pipe(v.string('must be a string'), v.trim(), v.minLength(1, 'is required'), v.maxLength(200, 'is too long')),
  temperature: v.pipe(v.number('must be a number'), v.minValue(0, 'must be at least 0'), v.maxValue(2, 'must be at most 2')),
  topP: v.pipe(v.number('must be a number'), v.minValue(0, 'must be at least 0'), v.maxValue(1, 'must be at most 1')),
  numCtx: v.pipe(v.number('must be a number'), v.integer('must be a whole number'), v.minValue(512, 'must be at least 512'), v.maxValue(131072, 'must be at most 131072')),
  historyMessages: v.pipe(v.number('must be a number'), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'), v.maxValue(500, 'must be at most 500')),
  maxMessageChars: v.pipe(v.number('must be a number'), v.integer('must be a whole number'), v.minValue(100, 'must be at least 100'), v.maxValue(100000, 'must be at most 100000')),
  maxConcurrentGenerations: v.pipe(v.number('must be a number'), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'), v.maxValue(256, 'must be at most 256')),
  /** Longest answer in tokens (Ollama's `num_predict`). */
  maxAnswerTokens: v.pipe(v.number('must be a number'), v.integer('must be a whole number'), v.minValue(16, 'must be at least 16'), v.maxValue(131072, 'must be at most 131072')),
  /** Longest time one answer may hold a model slot; then it is stopped and saved as `stopped`. */
  maxAnswerSeconds: v.pipe(v.number('must be a number'), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'), v.maxValue(3600, 'must be at most 3600')),
  /** Assistant agents the chat model may use (API.md "Assistant tools"); each on by default. */
  // an array, null or a scalar is named as `agents` itself, not as its missing `agents.reports` (docs/api.md "Errors")
  agents: JsonObject(v.strictObject({ reports: v.boolean('must be true or false') }, 'must be a JSON object')),
})
export type AppSettings = v.InferOutput<typeof AppSettingsSchema>
