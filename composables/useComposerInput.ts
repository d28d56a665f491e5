import type { Ref } from 'vue'

/**
 * The keyboard and sizing rules of every message box (chat composer, Mensajes reply): Enter sends, Shift+Enter
 * (and Enter while an IME is composing) inserts a new line, and the textarea grows with its text up to
 * `maxHeight` pixels.
 */
export function useComposerInput(text: Ref<string>, textarea: Ref<HTMLTextAreaElement | undefined>, send: () => void, maxHeight = 240) {
  function onKeydown(event: KeyboardEvent) {
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return
    event.preventDefault()
    send()
  }
  function autosize() {
    const el = textarea.value
    if (!el) return
    el.style.height = 'auto'
    el.style.height = `${Math.min(el.scrollHeight, maxHeight)}px`
  }
  watch(text, () => nextTick(autosize))
  // an empty box already has its one-row height: measuring it on mount only forced a layout of the whole page
  // inside the mount task (the chat page's forced reflow); a restored draft is measured
  onMounted(() => { if (text.value) autosize() })
  return { onKeydown }
}
