import { createAppI18n, rememberLocale } from '~/i18n'

// vue-i18n without a Nuxt module: the app is an SPA, so the locale is a client choice kept in localStorage.
export default defineNuxtPlugin({
  name: 'i18n',
  enforce: 'pre',
  setup(nuxtApp) {
    const i18n = createAppI18n()
    nuxtApp.vueApp.use(i18n)
    rememberLocale(i18n.global.locale.value)
    return { provide: { i18n } }
  },
})
