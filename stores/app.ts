import type { PublicConfig } from '#shared/types'
import { type LocaleCode, rememberLocale } from '~/i18n'

/** App-wide state that is not about the signed-in user: the public config and the UI language. */
export const useAppStore = defineStore('app', () => {
  const config = ref<PublicConfig | null>(null)
  let loading: Promise<PublicConfig | null> | null = null
  const { $i18n } = useNuxtApp()
  const locale = computed<LocaleCode>(() => $i18n.global.locale.value)

  /** `/api/config`, fetched once per page load (null when the server cannot be reached). */
  function loadConfig(): Promise<PublicConfig | null> {
    if (config.value) return Promise.resolve(config.value)
    loading ??= useApi()<PublicConfig>('/api/config')
      .then((value) => { config.value = value; return value })
      .catch(() => null)
      .finally(() => { loading = null })
    return loading
  }

  function setLocale(code: LocaleCode) {
    $i18n.global.locale.value = code
    rememberLocale(code)
  }

  return { config, locale, loadConfig, setLocale }
})
