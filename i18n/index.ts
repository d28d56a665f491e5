import { createI18n } from 'vue-i18n'

/** The UI languages; Spanish (Chile) is the default. `tag` is the BCP 47 tag for <html lang> and Intl. */
export const LOCALES = [
  { code: 'es', tag: 'es-CL', label: 'Español' },
  { code: 'en', tag: 'en', label: 'English' },
] as const

export type LocaleCode = typeof LOCALES[number]['code']
export const DEFAULT_LOCALE: LocaleCode = 'es'
// also read, before the app's script, by the HTML shell's boot script (app/spa-loading-template.html)
const STORAGE_KEY = 'energyapp.locale'

/** One area's messages: nested keys, string leaves. */
export interface MessageTree { [key: string]: string | MessageTree }
type Messages = Record<string, MessageTree>

// Every area adds its own file (i18n/locales/<locale>/<area>.ts, default export); keys are `<area>.<key>`.
// The entry chunk carries only the default language without the admin area; other languages and the admin
// texts are chunks of their own, loaded when the user picks the language or opens the admin panel.
const eagerFiles = import.meta.glob<{ default: MessageTree }>(['./locales/es/*.ts', '!./locales/es/admin.ts'], { eager: true })
// (two globs: a negative pattern in one glob would also drop es/admin.ts)
const lazyFiles = {
  ...import.meta.glob<{ default: MessageTree }>(['./locales/*/*.ts', '!./locales/es/*.ts']),
  ...import.meta.glob<{ default: MessageTree }>('./locales/es/admin.ts'),
}
/** Areas loaded only where they are used. */
export const LAZY_AREAS = ['admin'] as const
export type LazyArea = typeof LAZY_AREAS[number]

function fileOf(path: string): { locale: LocaleCode, area: string } | null {
  const match = /\.\/locales\/([^/]+)\/([^/]+)\.ts$/.exec(path)
  return match ? { locale: match[1] as LocaleCode, area: match[2]! } : null
}

/** The texts in the entry chunk: the default language, every area but the lazy ones. */
export function eagerMessages(): Record<LocaleCode, Messages> {
  const messages = Object.fromEntries(LOCALES.map(l => [l.code, {} as Messages])) as Record<LocaleCode, Messages>
  for (const [path, mod] of Object.entries(eagerFiles)) {
    const file = fileOf(path)
    if (file && messages[file.locale]) messages[file.locale][file.area] = mod.default
  }
  return messages
}

const loaded = new Set(Object.keys(eagerFiles).map(fileOf).filter(f => !!f).map(f => `${f!.locale}/${f!.area}`))
interface MessageTarget {
  getLocaleMessage: (locale: string) => Messages
  setLocaleMessage: (locale: string, messages: Messages) => void
}

// lazy areas opened once stay wanted: switching language on an admin page loads the new language's admin texts
const wantedAreas = new Set<LazyArea>()

/** Loads `code`'s texts (its common areas, plus `areas` and those asked for before) into `i18n` unless loaded. */
export async function ensureMessages(i18n: MessageTarget, code: LocaleCode, areas: readonly LazyArea[] = []) {
  for (const area of areas) wantedAreas.add(area)
  const wanted = Object.entries(lazyFiles).filter(([path]) => {
    const file = fileOf(path)
    if (!file || file.locale !== code || loaded.has(`${file.locale}/${file.area}`)) return false
    return !(LAZY_AREAS as readonly string[]).includes(file.area) || wantedAreas.has(file.area as LazyArea)
  })
  const modules = await Promise.all(wanted.map(async ([path, load]) => [fileOf(path)!.area, (await load()).default] as const))
  if (!modules.length) return
  // whole areas added beside the loaded ones: vue-i18n's mergeLocaleMessage deep-copies every text through the
  // messages' reactive proxies (12 ms for the admin texts on a fast machine, 48 at Lighthouse's 4×)
  i18n.setLocaleMessage(code, { ...i18n.getLocaleMessage(code), ...Object.fromEntries(modules) })
  for (const [area] of modules) loaded.add(`${code}/${area}`)
}

export const isLocale = (value: unknown): value is LocaleCode => LOCALES.some(l => l.code === value)
export const localeTag = (code: LocaleCode) => LOCALES.find(l => l.code === code)!.tag

/** The remembered choice, else Spanish (the company's language) — English only on request. */
export function initialLocale(): LocaleCode {
  // read by the HTML shell's boot script (app/spa-loading-template.html): '' when nothing is remembered
  const booted = globalThis.document?.documentElement.dataset.locale
  if (booted !== undefined) return isLocale(booted) ? booted : DEFAULT_LOCALE
  try {
    const saved = localStorage.getItem(STORAGE_KEY)
    if (isLocale(saved)) return saved
  }
  catch {}
  return DEFAULT_LOCALE
}

export function rememberLocale(code: LocaleCode) {
  try { localStorage.setItem(STORAGE_KEY, code) }
  catch {}
  showLocale(code)
}

/** The page's language for browsers and screen readers (`<html lang>`). */
export function showLocale(code: LocaleCode) {
  document.documentElement.lang = localeTag(code)
  document.documentElement.dataset.locale = code
}

export function createAppI18n() {
  const locale = initialLocale()
  return createI18n({
    legacy: false,
    globalInjection: true,
    locale,
    fallbackLocale: DEFAULT_LOCALE,
    messages: eagerMessages(),
    missingWarn: false,
    fallbackWarn: false,
  })
}

export type AppI18n = ReturnType<typeof createAppI18n>

// building an Intl formatter loads locale data (the first one costs ~50 ms on a phone): build each once
const formatters = new Map<string, Intl.DateTimeFormat | Intl.NumberFormat | Intl.RelativeTimeFormat>()
function cached<T extends Intl.DateTimeFormat | Intl.NumberFormat | Intl.RelativeTimeFormat>(key: string, make: () => T): T {
  let formatter = formatters.get(key) as T | undefined
  if (!formatter) formatters.set(key, formatter = make())
  return formatter
}
const tagOf = (code: string) => localeTag(isLocale(code) ? code : DEFAULT_LOCALE)

/** A cached Intl.NumberFormat for the UI language `code`. */
export const numberFormat = (code: string, options: Intl.NumberFormatOptions = {}) =>
  cached(`number|${code}|${JSON.stringify(options)}`, () => new Intl.NumberFormat(tagOf(code), options))

/** A cached Intl.RelativeTimeFormat ("hace 3 h") for the UI language `code`. */
export const relativeTimeFormat = (code: string) =>
  cached(`relative|${code}`, () => new Intl.RelativeTimeFormat(tagOf(code), { numeric: 'auto', style: 'short' }))

const DAY_MS = 86_400_000
/** Midnight (local time) of a date's day, as a day number to compare days by. */
const dayOf = (date: Date) => Math.round((date.getTime() - date.getTimezoneOffset() * 60_000) / DAY_MS - 0.5)

/**
 * A date in a list, as message and mail apps show it: "14:05" today, "ayer 14:05", "3 dic" this year, "3 dic 2025"
 * before (the full date goes in the element's title). `now` for tests.
 */
export function formatShortDate(iso: string | Date | null | undefined, code: string, now = new Date()) {
  if (!iso) return ''
  const date = typeof iso === 'string' ? new Date(iso) : iso
  const tag = tagOf(code)
  const days = dayOf(now) - dayOf(date)
  const time = () => cached(`time|${code}`, () => new Intl.DateTimeFormat(tag, { timeStyle: 'short' })).format(date)
  if (days === 0) return time()
  if (days === 1) return `${cached(`rel-auto|${code}`, () => new Intl.RelativeTimeFormat(tag, { numeric: 'auto' })).format(-1, 'day')} ${time()}`
  if (date.getFullYear() === now.getFullYear() && days > 0) return cached(`day-month|${code}`, () => new Intl.DateTimeFormat(tag, { day: 'numeric', month: 'short' })).format(date)
  return formatDateTime(date, code, false)
}

const warmed = new Set<string>()
/**
 * Builds the date formatters of language `code` ahead of use, each in its own idle moment (e.g. while the session
 * request of a page load is in flight), so the first page that shows dates does not pay for them while rendering.
 */
export function warmDateFormatters(code: string) {
  if (typeof window === 'undefined' || warmed.has(code)) return
  warmed.add(code)
  const idle = (run: () => void) => ('requestIdleCallback' in window ? requestIdleCallback(run, { timeout: 1000 }) : setTimeout(run, 0))
  for (const build of [() => formatDateTime(new Date(), code), () => formatDateTime(new Date(), code, false), () => relativeTimeFormat(code)])
    idle(build)
}

/** A date (ISO string) for people: "12 mar 2025, 14:05" in es-CL. */
export function formatDateTime(iso: string | Date | null | undefined, code: string, withTime = true) {
  if (!iso) return ''
  const date = typeof iso === 'string' ? new Date(iso) : iso
  const format = cached(`date|${code}|${withTime}`, () => new Intl.DateTimeFormat(tagOf(code), withTime ? { dateStyle: 'medium', timeStyle: 'short' } : { dateStyle: 'medium' }))
  return format.format(date)
}
