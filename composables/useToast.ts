export type ToastTone = 'info' | 'success' | 'error'
export interface Toast { id: number, message: string, tone: ToastTone }

let nextId = 1
const timers = new Map<number, ReturnType<typeof setTimeout>>()

/** Short, self-dismissing notices ("Token revocado"); <UiToaster> in app.vue shows them. */
export function useToast() {
  const toasts = useState<Toast[]>('toasts', () => [])

  function dismiss(id: number) {
    toasts.value = toasts.value.filter(toast => toast.id !== id)
    clearTimeout(timers.get(id))
    timers.delete(id)
  }

  function show(message: string, tone: ToastTone = 'info', ms = tone === 'error' ? 8000 : 4000) {
    const id = nextId++
    toasts.value = [...toasts.value.slice(-2), { id, message, tone }]
    timers.set(id, setTimeout(() => dismiss(id), ms))
    return id
  }

  return { toasts, show, dismiss }
}
