import { computed, onMounted, ref, shallowRef, toValue, type MaybeRefOrGetter } from 'vue'
import type { MarkdownOptions } from '~/utils/markdown'

type Render = (source: string) => string
type Modules = [typeof import('~/utils/markdown'), typeof import('dompurify')]
type Highlight = NonNullable<MarkdownOptions['highlight']>

// loaded on first use so markdown-it and DOMPurify stay out of the sign-in page's bundle
const modules = shallowRef<Modules | null>(null)
/** The renderer has loaded, or failed to (offline without it cached): answers may be shown either way. */
const settled = shallowRef(false)
let loading: Promise<void> | null = null
// highlight.js is not needed to paint an answer (its code blocks are the same text in the same box, uncoloured):
// it loads after the renderer and colours code blocks in idle moments, out of the page's first tasks
const highlighter = shallowRef<Highlight | null>(null)
let loadingHighlighter: Promise<void> | null = null
const renderers = new Map<string, Render>()

function load() {
  loading ??= Promise.all([import('~/utils/markdown'), import('dompurify')])
    .then((loaded) => { modules.value = loaded })
    .catch(() => { loading = null })
    .finally(() => { settled.value = true })
  return loading
}

function loadHighlighter() {
  loadingHighlighter ??= load()
    .then(() => import('~/utils/markdown-highlight'))
    .then((module) => { highlighter.value = module.highlightCode })
    .catch(() => { loadingHighlighter = null })
  return loadingHighlighter
}

/**
 * Starts loading the renderer before any message is on screen (the chat page calls it once a message is being
 * written), so the first answer does not wait for it. Messages on screen (useMarkdown) load it at once.
 */
export function preloadMarkdown() {
  if (typeof window === 'undefined' || modules.value) return
  void load()
}

function renderer(label: string, highlight: Highlight | null): Render | null {
  if (!modules.value) return null
  const key = `${highlight ? 'hl' : 'plain'}|${label}`
  let render = renderers.get(key)
  if (!render) {
    const [{ createMarkdownRenderer, createSanitizer }, { default: createPurify }] = modules.value
    const sanitize = createSanitizer(createPurify(window))
    render = createMarkdownRenderer({ highlight: highlight ?? undefined, copyLabel: label, sanitize })
    renderers.set(key, render)
  }
  return render
}

/**
 * Markdown → sanitised HTML for model answers. `render` is null until the renderer has loaded (show plain
 * text meanwhile); it never returns unsanitised HTML. `renderHighlighted` also colours code blocks: null until
 * highlight.js has loaded (callers switch to it when they can afford the work, e.g. in an idle moment).
 * One renderer per copy-button label (i.e. per language).
 */
export function useMarkdown(copyLabel: MaybeRefOrGetter<string> = 'Copiar') {
  if (typeof window !== 'undefined') void load()
  const render = computed(() => renderer(toValue(copyLabel), null))
  const renderHighlighted = computed(() => (highlighter.value ? renderer(toValue(copyLabel), highlighter.value) : null))
  return { render, renderHighlighted, loadHighlighter, ready: computed(() => !!modules.value), settled: computed(() => settled.value), load }
}

// code blocks are coloured one message per idle callback, across every message on the page
const idleTurns: Array<() => void> = []
function nextIdleTurn() {
  const run = () => {
    idleTurns.shift()?.()
    if (idleTurns.length) nextIdleTurn()
  }
  if ('requestIdleCallback' in window) requestIdleCallback(run, { timeout: 2000 })
  else setTimeout(run, 50)
}
function takeIdleTurn(run: () => void) {
  idleTurns.push(run)
  if (idleTurns.length === 1) nextIdleTurn()
}
const HAS_FENCE = /```|~~~/

/**
 * A message's Markdown as sanitised HTML (null until the renderer has loaded): painted first with its code blocks
 * uncoloured, then coloured in an idle moment of its own — at once while `colourNow()` holds (a streaming answer).
 */
export function useMarkdownHtml(source: () => string | null | undefined, copyLabel: MaybeRefOrGetter<string>, colourNow: () => boolean = () => false) {
  const { render, renderHighlighted, loadHighlighter } = useMarkdown(copyLabel)
  const idleTurn = ref(false)
  onMounted(() => {
    if (HAS_FENCE.test(source() ?? '') || colourNow()) void loadHighlighter().then(() => takeIdleTurn(() => { idleTurn.value = true }))
  })
  return computed(() => {
    const text = source()
    if (!text) return null
    const colour = HAS_FENCE.test(text) && (idleTurn.value || colourNow()) ? renderHighlighted.value : null
    const html = colour ?? render.value
    return html ? html(text) : null
  })
}
