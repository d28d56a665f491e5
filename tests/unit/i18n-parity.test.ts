import { readdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import { AUDIT_ACTIONS } from '../../shared/admin'
import { ERROR_REASONS, STREAM_ERROR_REASONS } from '../../shared/errors'

// es is the default language and en the other: every text must exist in both, with the same keys
const LOCALES = resolve(import.meta.dirname, '../../i18n/locales')
type Tree = { [key: string]: string | Tree }

function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([key, value]) => (typeof value === 'string' ? [`${prefix}${key}`] : keys(value, `${prefix}${key}.`)))
}

async function load(locale: string): Promise<Record<string, Tree>> {
  const areas = readdirSync(resolve(LOCALES, locale)).filter(f => f.endsWith('.ts')).sort()
  return Object.fromEntries(await Promise.all(areas.map(async file => [file.replace(/\.ts$/, ''), (await import(resolve(LOCALES, locale, file))).default as Tree])))
}

describe('i18n', () => {
  it('es and en have the same areas and the same keys', async () => {
    const [es, en] = await Promise.all([load('es'), load('en')])
    expect(Object.keys(en)).toEqual(Object.keys(es))
    const esKeys = keys(es).sort()
    expect(esKeys.length).toBeGreaterThan(300)
    expect(keys(en).sort()).toEqual(esKeys)
  })

  it('every server error code and stream error code has a text in both languages', async () => {
    for (const locale of ['es', 'en']) {
      const messages = await load(locale)
      const i18n = createI18n({ legacy: false, locale, messages: { [locale]: messages }, missingWarn: false, fallbackWarn: false })
      for (const reason of ERROR_REASONS) expect(i18n.global.te(`errors.reason.${reason}`), `${locale} errors.reason.${reason}`).toBe(true)
      for (const reason of STREAM_ERROR_REASONS) expect(i18n.global.te(`errors.stream.${reason}`), `${locale} errors.stream.${reason}`).toBe(true)
      // kebab-case codes resolve as one key
      expect(i18n.global.t('errors.reason.model-error')).toBe((messages.errors!.reason as Tree)['model-error'])
    }
  })

  it('every audit action has a filter label and a sentence in both languages, and every area a group label', async () => {
    for (const locale of ['es', 'en']) {
      const messages = await load(locale)
      const i18n = createI18n({ legacy: false, locale, messages: { [locale]: messages }, missingWarn: false, fallbackWarn: false })
      for (const [area, codes] of Object.entries(AUDIT_ACTIONS)) {
        expect(i18n.global.te(`admin.audit.groups.${area}`), `${locale} admin.audit.groups.${area}`).toBe(true)
        for (const code of codes) {
          expect(i18n.global.te(`admin.audit.actions.${area}.${code}`), `${locale} admin.audit.actions.${area}.${code}`).toBe(true)
          expect(i18n.global.te(`admin.audit.sentences.${area}.${code}`), `${locale} admin.audit.sentences.${area}.${code}`).toBe(true)
        }
      }
    }
  })
})
