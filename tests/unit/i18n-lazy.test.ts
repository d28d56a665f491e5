import { describe, expect, it } from 'vitest'
import { createI18n } from 'vue-i18n'
import { eagerMessages, ensureMessages } from '../../i18n'

// the entry chunk carries Spanish without the admin texts; English and the admin area load on demand
describe('i18n loading', () => {
  it('starts with Spanish minus admin, then loads admin and English when asked', async () => {
    const messages = eagerMessages()
    expect(Object.keys(messages.es)).toContain('chat')
    expect(Object.keys(messages.es)).not.toContain('admin')
    expect(Object.keys(messages.en)).toEqual([])
    const i18n = createI18n({ legacy: false, locale: 'es', messages, missingWarn: false, fallbackWarn: false })
    const { global } = i18n
    expect(global.te('admin.audit.title')).toBe(false)

    await ensureMessages(global, 'es', ['admin'])
    expect(global.t('admin.audit.title')).toBe('Registro de auditoría')

    // English after the admin panel was opened: its admin texts come along
    await ensureMessages(global, 'en')
    expect(global.te('chat.send', 'en')).toBe(true)
    expect(global.t('admin.audit.title', {}, { locale: 'en' })).not.toBe('admin.audit.title')
    expect(global.te('admin.audit.title', 'en')).toBe(true)
  })
})
