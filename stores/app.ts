import type { PublicConfig } from '#shared/types'
import { ensureMessages, type LocaleCode, rememberLocale } from '~/i18n'

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

  /** Switches the UI language once its texts are loaded (only the default one is in the first download). */
  async function setLocale(code: LocaleCode) {
    await ensureMessages($i18n.global, code)
    $i18n.global.locale.value = code
    rememberLocale(code)
  }

  return { config, locale, loadConfig, setLocale }
})
