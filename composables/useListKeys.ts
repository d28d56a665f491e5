import type { Ref } from 'vue'

/**
 * Up/Down (and Home/End) move focus between the rows (`[data-row]`) inside `container`, like a list box,
 * while Tab still leaves the list. Returns the keydown handler to put on the container.
 */
export function useListKeys(container: Ref<HTMLElement | undefined>) {
  return function onKeydown(event: KeyboardEvent) {
    const rows = [...(container.value?.querySelectorAll<HTMLElement>('[data-row]') ?? [])]
    const at = rows.indexOf(document.activeElement as HTMLElement)
    if (at < 0) return
    const next = ({ ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: rows.length - 1 } as Record<string, number>)[event.key]
    if (next === undefined) return
    event.preventDefault()
    rows[Math.max(0, Math.min(rows.length - 1, next))]?.focus()
  }
}
