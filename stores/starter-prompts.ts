/** The company's starter prompts on the empty chat (issue 13.6); admins edit them in Admin → Prompts. */
export const useStarterPromptsStore = defineStore('starter-prompts', () => {
  const api = useApi()
  const prompts = ref<string[]>([])
  const loaded = ref(false)
  /** The first load has answered (or failed): the empty chat lays out what follows the suggestions only then. */
  const settled = ref(false)

  async function load() {
    try {
      prompts.value = (await api<{ data: string[] }>('/api/starter-prompts')).data
      loaded.value = true
    }
    catch {} // suggestions are optional: the empty chat works without them
    finally { settled.value = true }
  }

  async function save(list: string[]) {
    prompts.value = (await api<{ data: string[] }>('/api/admin/starter-prompts', { method: 'PUT', body: { prompts: list } })).data
    loaded.value = true
    return prompts.value
  }

  function $reset() { prompts.value = []; loaded.value = false; settled.value = false }
  useAuthStore().onSignOut($reset)

  return { prompts, loaded, settled, load, save, $reset }
})
