/** The company's starter prompts on the empty chat (issue 13.6); admins edit them in Admin → Prompts. */
export const useStarterPromptsStore = defineStore('starter-prompts', () => {
  const api = useApi()
  const prompts = ref<string[]>([])
  /** No admin has saved a list: `prompts` are the app's examples (the chat shows them in the reader's language). */
  const builtIn = ref(false)
  const loaded = ref(false)
  /** The first load has answered (or failed): the empty chat lays out what follows the suggestions only then. */
  const settled = ref(false)

  async function load() {
    try {
      const answer = await api<{ data: string[], builtIn?: boolean }>('/api/starter-prompts')
      prompts.value = answer.data
      builtIn.value = answer.builtIn === true
      loaded.value = true
    }
    catch {} // suggestions are optional: the empty chat works without them
    finally { settled.value = true }
  }

  async function save(list: string[]) {
    prompts.value = (await api<{ data: string[] }>('/api/admin/starter-prompts', { method: 'PUT', body: { prompts: list } })).data
    builtIn.value = false
    loaded.value = true
    return prompts.value
  }

  function $reset() { prompts.value = []; builtIn.value = false; loaded.value = false; settled.value = false }
  useAuthStore().onSignOut($reset)

  return { prompts, builtIn, loaded, settled, load, save, $reset }
})
