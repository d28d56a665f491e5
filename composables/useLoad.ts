/**
 * A screen's load: `loading`, the error as a sentence in the user's language, and `load` to (re)run it.
 * Only the latest call reports, so a slow earlier answer never overwrites a newer one.
 */
export function useLoad<A extends unknown[]>(run: (...args: A) => Promise<unknown>, byStatus: () => Partial<Record<number, string>> = () => ({})) {
  const errorText = useApiErrorText()
  const loading = ref(false)
  const error = ref<string | null>(null)
  let latest = 0
  async function load(...args: A) {
    const mine = ++latest
    loading.value = true
    error.value = null
    try { await run(...args) }
    catch (e) { if (mine === latest) error.value = errorText(e, byStatus()) }
    finally { if (mine === latest) loading.value = false }
  }
  return { loading, error, load }
}
