import { computed, shallowRef, toValue, type MaybeRefOrGetter } from 'vue'

type Render = (source: string) => string
type Modules = [typeof import('~/utils/markdown'), typeof import('~/utils/markdown-highlight'), typeof import('dompurify')]

// loaded on first use so markdown-it, highlight.js and DOMPurify stay out of the sign-in page's bundle
const modules = shallowRef<Modules | null>(null)
/** The renderer has loaded, or failed to (offline without it cached): answers may be shown either way. */
const settled = shallowRef(false)
let loading: Promise<void> | null = null
const renderers = new Map<string, Render>()

function load() {
  loading ??= Promise.all([import('~/utils/markdown'), import('~/utils/markdown-highlight'), import('dompurify')])
    .then((loaded) => { modules.value = loaded })
    .catch(() => { loading = null })
    .finally(() => { settled.value = true })
  return loading
}

/**
 * Starts loading the renderer before any message is on screen (the chat page calls it once a message is being
 * written), so the first answer does not wait for it. Messages on screen (useMarkdown) load it at once.
 */
export function preloadMarkdown() {
  if (typeof window === 'undefined' || modules.value) return
  void load()
}

/**
 * Markdown → sanitised HTML for model answers. `render` is null until the renderer has loaded (show plain
 * text meanwhile); it never returns unsanitised HTML. One renderer per copy-button label (i.e. per language).
 */
export function useMarkdown(copyLabel: MaybeRefOrGetter<string> = 'Copiar') {
  if (typeof window !== 'undefined') void load()
  const render = computed<Render | null>(() => {
    if (!modules.value) return null
    const label = toValue(copyLabel)
    let renderer = renderers.get(label)
    if (!renderer) {
      const [{ createMarkdownRenderer, createSanitizer }, { highlightCode }, { default: createPurify }] = modules.value
      const sanitize = createSanitizer(createPurify(window))
      renderer = createMarkdownRenderer({ highlight: highlightCode, copyLabel: label, sanitize })
      renderers.set(label, renderer)
    }
    return renderer
  })
  return { render, ready: computed(() => !!modules.value), settled: computed(() => settled.value), load }
}
