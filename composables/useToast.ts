export type ToastTone = 'info' | 'success' | 'error'
/** A button in the toast ("Deshacer"): it runs, then the toast goes. */
export interface ToastAction { label: string, run: () => void }
export interface Toast { id: number, message: string, tone: ToastTone, action?: ToastAction, testid?: string }
export interface ToastOptions {
  /** How long it stays (errors 8 s, others 4 s). */
  ms?: number
  action?: ToastAction
  testid?: string
}

let nextId = 1
const timers = new Map<number, ReturnType<typeof setTimeout>>()

/** Short, self-dismissing notices ("Token revocado"), some with an action; <UiToaster> in app.vue shows them. */
export function useToast() {
  const toasts = useState<Toast[]>('toasts', () => [])

  function dismiss(id: number) {
    toasts.value = toasts.value.filter(toast => toast.id !== id)
    clearTimeout(timers.get(id))
    timers.delete(id)
  }

  function show(message: string, tone: ToastTone = 'info', { ms = tone === 'error' ? 8000 : 4000, action, testid }: ToastOptions = {}) {
    const id = nextId++
    toasts.value = [...toasts.value.slice(-2), { id, message, tone, action, testid }]
    timers.set(id, setTimeout(() => dismiss(id), ms))
    return id
  }

  function act(toast: Toast) {
    dismiss(toast.id)
    toast.action?.run()
  }

  return { toasts, show, dismiss, act }
}

// the undo toast each kind of pending change has on screen, and for which change: a page that mounts anew while the
// change is pending (the chat page does, from one conversation to another) keeps the toast instead of showing it again
const undoShown = new Map<string, { id: number, change: unknown }>()

/**
 * While `pending()` holds a change that can still be undone (a delete in its undo window), a toast offers
 * "Deshacer"; it goes when the change is undone or sent.
 */
export function useUndoToast(pending: () => unknown, options: { message: () => string, label: () => string, undo: () => void, testid: string }) {
  const { show, dismiss } = useToast()
  const sync = (change: unknown) => {
    const shown = undoShown.get(options.testid)
    if (shown?.change === change) return
    if (shown) dismiss(shown.id)
    undoShown.delete(options.testid)
    if (!change) return
    const id = show(options.message(), 'info', { ms: 60_000, action: { label: options.label(), run: options.undo }, testid: options.testid })
    undoShown.set(options.testid, { id, change })
  }
  watch(pending, sync, { immediate: true })
  // leaving the page sends the change first: its toast goes with it
  onScopeDispose(() => { if (!pending()) sync(null) })
}
