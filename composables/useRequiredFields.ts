/**
 * A form's required fields, marked when it is sent empty (a greyed-out button gives no reason, and the server
 * would name only the first). Each getter returns what counts as the field's value: '' means empty. A mark
 * goes as soon as its field is filled; `check()` marks every empty field at once and moves the focus to the
 * first, so a keyboard or screen-reader user lands where the fix is.
 *
 *   const required = useRequiredFields({ title: () => title.value.trim(), content: () => content.value.trim() })
 *   function submit() { if (!required.check(form.value)) return; … }
 *   <UiInput :error="required.missing.title ? t('…') : null" />
 */
export function useRequiredFields<K extends string>(fields: Record<K, () => string>) {
  const keys = Object.keys(fields) as K[]
  const missing = reactive(Object.fromEntries(keys.map(key => [key, false]))) as Record<K, boolean>
  for (const key of keys) watch(fields[key], (value) => { if (value !== '') missing[key] = false })

  /** Marks the empty fields; true when none is. With `form`, the first marked field takes the focus. */
  function check(form?: HTMLElement | null): boolean {
    for (const key of keys) missing[key] = fields[key]() === ''
    const complete = keys.every(key => !missing[key])
    if (!complete && form) nextTick(() => form.querySelector<HTMLElement>('[aria-invalid="true"]')?.focus())
    return complete
  }
  /** Drops every mark (the form was emptied or opened anew). */
  function clear() {
    for (const key of keys) missing[key] = false
  }
  const any = computed(() => keys.some(key => missing[key]))
  return { missing, any, check, clear }
}
