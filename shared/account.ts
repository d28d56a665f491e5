import * as v from 'valibot'
import { FullName, JsonObject, maxChars } from './schemas'

/** The signed-in user's own account: profile, preferences, phone (API.md "Auth"). */

export const THEMES = ['system', 'light', 'dark'] as const
export type Theme = typeof THEMES[number]

export const PreferencesSchema = v.strictObject({
  theme: v.optional(v.picklist(THEMES, 'must be system, light or dark')),
  /** A model for new conversations; null = the admin's default. */
  defaultModel: v.optional(v.nullable(v.pipe(v.string('must be a string'), v.trim(), maxChars(200)))),
  /** Added to the system prompt of every conversation of this user. */
  customInstructions: v.optional(v.pipe(v.string('must be a string'), v.trim(), maxChars(2000))),
})

export interface Preferences { theme: Theme, defaultModel: string | null, customInstructions: string }

export const DEFAULT_PREFERENCES: Preferences = { theme: 'system', defaultModel: null, customInstructions: '' }

/** Stored preferences (any JSON) read defensively: unknown keys and wrong types fall back to the defaults. */
export function readPreferences(stored: unknown): Preferences {
  const value = (stored && typeof stored === 'object' ? stored : {}) as Record<string, unknown>
  return {
    theme: THEMES.includes(value.theme as Theme) ? value.theme as Theme : DEFAULT_PREFERENCES.theme,
    defaultModel: typeof value.defaultModel === 'string' && value.defaultModel ? value.defaultModel : null,
    customInstructions: typeof value.customInstructions === 'string' ? value.customInstructions : '',
  }
}

export const ProfileBody = v.strictObject({
  fullName: v.optional(FullName),
  bio: v.optional(v.pipe(v.string('must be a string'), v.trim(), maxChars(1000))),
  preferences: v.optional(JsonObject(PreferencesSchema)),
})

/** E.164: a plus, a country code and 8 to 15 digits in all, e.g. +56912345678. */
export const Phone = v.pipe(
  v.string('must be a string'),
  v.transform(s => s.replace(/[\s\-().]/g, '')),
  v.regex(/^\+[1-9]\d{7,14}$/, 'must be an international number in E.164 form, like +56912345678'),
)
export const PhoneBody = v.strictObject({ phone: Phone })
export const PhoneCodeBody = v.strictObject({
  code: v.pipe(v.string('must be a string'), v.trim(), v.regex(/^\d{6}$/, 'must be the 6-digit code')),
})
