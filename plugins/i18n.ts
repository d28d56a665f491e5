import { createAppI18n, DEFAULT_LOCALE, ensureMessages, showLocale } from '~/i18n'

// vue-i18n without a Nuxt module: the app is an SPA, so the locale is a client choice kept in localStorage.
// Only the default language is in the entry chunk: another remembered choice is loaded before the first render.
export default defineNuxtPlugin({
  name: 'i18n',
  enforce: 'pre',
  async setup(nuxtApp) {
    const i18n = createAppI18n()
    const locale = i18n.global.locale.value
    if (locale !== DEFAULT_LOCALE) await ensureMessages(i18n.global, locale)
    nuxtApp.vueApp.use(i18n)
    showLocale(locale)
    return { provide: { i18n } }
  },
})
