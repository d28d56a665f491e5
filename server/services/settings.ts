import { eq } from 'drizzle-orm'
import * as v from 'valibot'
import { type AppSettings, AppSettingsSchema } from '#shared/settings'
import { useDb } from '../db/client'
import { settings } from '../db/schema'

export { type AppSettings, AppSettingsSchema } from '#shared/settings'

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
    maxAnswerTokens: 4096,
    maxAnswerSeconds: 600,
    agents: { reports: true },
  }
}

export async function getSettings(): Promise<AppSettings> {
  if (cache && Date.now() - cache.at < CACHE_MS) return cache.value
  const [row] = await useDb().select().from(settings).where(eq(settings.key, KEY)).limit(1)
  const stored = storedSettings(row?.value)
  const defaults = defaultSettings()
  const value = { ...defaults, ...stored, agents: { ...defaults.agents, ...stored.agents } }
  cache = { value, at: Date.now() }
  return value
}

/**
 * The stored settings that are still valid, each checked against today's schema: a value written by an older
 * version (a renamed key, a range since tightened) falls back to its default instead of reaching the chat and
 * `/api/admin/settings` unchecked (REVIEW D5). What is dropped is logged each time the row is read (every 5 s at most).
 */
function storedSettings(raw: unknown): Partial<AppSettings> {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return {}
  const kept: Record<string, unknown> = {}
  for (const [key, value] of Object.entries(raw)) {
    const field = Object.hasOwn(AppSettingsSchema.entries, key) ? AppSettingsSchema.entries[key as keyof AppSettings] : undefined
    const parsed = field && v.safeParse(field, value)
    if (parsed?.success) kept[key] = parsed.output
    else log.warn('stored setting ignored, its default applies', { key, problem: field ? parsed?.issues[0].message : 'unknown setting' })
  }
  return kept as Partial<AppSettings>
}

export async function saveSettings(value: AppSettings) {
  await useDb().insert(settings).values({ key: KEY, value }).onConflictDoUpdate({ target: settings.key, set: { value } })
  cache = { value, at: Date.now() }
  return value
}
