import { eq } from 'drizzle-orm'
import * as v from 'valibot'
import { useDb } from '../db/client'
import { settings } from '../db/schema'

/** Model settings an admin can change at runtime (API.md `/api/admin/settings`). */
export const AppSettingsSchema = v.strictObject({
  defaultModel: v.pipe(v.string('must be a string'), v.trim(), v.minLength(1, 'is required'), v.maxLength(200, 'is too long')),
  temperature: v.pipe(v.number('must be a number'), v.minValue(0, 'must be at least 0'), v.maxValue(2, 'must be at most 2')),
  topP: v.pipe(v.number('must be a number'), v.minValue(0, 'must be at least 0'), v.maxValue(1, 'must be at most 1')),
  numCtx: v.pipe(v.number('must be a number'), v.integer('must be a whole number'), v.minValue(512, 'must be at least 512'), v.maxValue(131072, 'must be at most 131072')),
  historyMessages: v.pipe(v.number('must be a number'), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'), v.maxValue(500, 'must be at most 500')),
  maxMessageChars: v.pipe(v.number('must be a number'), v.integer('must be a whole number'), v.minValue(100, 'must be at least 100'), v.maxValue(100000, 'must be at most 100000')),
  maxConcurrentGenerations: v.pipe(v.number('must be a number'), v.integer('must be a whole number'), v.minValue(1, 'must be at least 1'), v.maxValue(256, 'must be at most 256')),
  /** Assistant agents the chat model may use (API.md "Assistant tools"); each on by default. */
  agents: v.strictObject({ reports: v.boolean('must be true or false') }),
})
export type AppSettings = v.InferOutput<typeof AppSettingsSchema>

const KEY = 'app'
// other app processes pick up a change within this long
const CACHE_MS = 5_000
let cache: { value: AppSettings, at: number } | undefined

export function defaultSettings(): AppSettings {
  const config = useConfig()
  return {
    defaultModel: config.ollamaModel,
    temperature: 0.7,
    topP: 0.9,
    numCtx: 4096,
    historyMessages: 20,
    maxMessageChars: 8000,
    maxConcurrentGenerations: config.maxConcurrentGenerations,
    agents: { reports: true },
  }
}

export async function getSettings(): Promise<AppSettings> {
  if (cache && Date.now() - cache.at < CACHE_MS) return cache.value
  const [row] = await useDb().select().from(settings).where(eq(settings.key, KEY)).limit(1)
  const stored = (row?.value ?? {}) as Partial<AppSettings>
  const defaults = defaultSettings()
  const value = { ...defaults, ...stored, agents: { ...defaults.agents, ...stored.agents } }
  cache = { value, at: Date.now() }
  return value
}

export async function saveSettings(value: AppSettings) {
  await useDb().insert(settings).values({ key: KEY, value }).onConflictDoUpdate({ target: settings.key, set: { value } })
  cache = { value, at: Date.now() }
  return value
}
