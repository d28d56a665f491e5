import type { ApiChannelFailedSend, ApiChannels, ApiSmsChannel } from '#shared/channels'

/** Admin → Canales: the SMS channel's state and its failed sends (users with `channels.manage`). */
export const useAdminChannelsStore = defineStore('admin-channels', () => {
  const api = useApi()
  const sms = ref<ApiSmsChannel | null>(null)

  async function load() {
    sms.value = (await api<ApiChannels>('/api/admin/channels')).sms
  }

  /** Puts a failed send back in line; it leaves the failed list at once. */
  async function retry(id: string) {
    await api<{ send: ApiChannelFailedSend }>(`/api/admin/channels/jobs/${id}/retry`, { method: 'POST' })
    if (sms.value) sms.value = { ...sms.value, failed: sms.value.failed.filter(f => f.id !== id), pending: sms.value.pending + 1 }
  }

  function $reset() {
    sms.value = null
  }

  return { sms, load, retry, $reset }
})
