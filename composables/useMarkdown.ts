import { computed, ref, shallowRef, toValue, type MaybeRefOrGetter } from 'vue'
import type { ColourJob, ColourResult } from '~/utils/highlight.worker'
import { holdUnfinishedTable } from '~/utils/markdown-stream'

type Render = (source: string) => string
type Modules = [typeof import('~/utils/markdown'), typeof import('dompurify')]
type Block = { code: string, lang: string }

// loaded on first use so markdown-it and DOMPurify stay out of the sign-in page's bundle
const modules = shallowRef<Modules | null>(null)
/** The renderer has loaded, or failed to (offline without it cached): answers may be shown either way. */
const settled = shallowRef(false)
let loading: Promise<void> | null = null
const renderers = new Map<string, Render>()

function load() {
  loading ??= Promise.all([import('~/utils/markdown'), import('dompurify')])
    .then((loaded) => { modules.value = loaded })
    .catch(() => { loading = null })
    .finally(() => { settled.value = true })
  return loading
}

// Code blocks are coloured by highlight.js in a worker (utils/highlight.worker.ts), so its start-up and the colouring
// itself stay off the main thread. A message renders its blocks uncoloured, asks for the colours it lacks, and renders
// again once they are here. Colours are kept by language and text (null: not a language we colour).
const colours = new Map<string, string | null>()
const MAX_COLOURS = 500
const asked = new Map<string, Promise<void>>()
/** The blocks a render is missing colours for, while one runs. */
let missing: Block[] | null = null
let colourer: Promise<(blocks: Block[]) => Promise<Array<string | null>>> | null = null

const colourKey = (block: Block) => `${block.lang}\u0000${block.code}`

/** highlight.js in a worker; on the main thread where a worker cannot start (and after one failed). */
function startColourer() {
  colourer ??= new Promise((resolve) => {
    const onMainThread = () => resolve(async (blocks) => {
      const { highlightCode } = await import('~/utils/markdown-highlight')
      return blocks.map(block => highlightCode(block.code, block.lang))
    })
    let worker: Worker
    try { worker = new Worker(new URL('../utils/highlight.worker.ts', import.meta.url), { name: 'highlight' }) }
    catch { return onMainThread() }
    const jobs = new Map<number, { resolve: (html: Array<string | null>) => void, reject: (error: Error) => void }>()
    let next = 0
    worker.addEventListener('message', (event: MessageEvent<ColourResult>) => {
      jobs.get(event.data.id)?.resolve(event.data.html)
      jobs.delete(event.data.id)
    })
    // a worker that could not load (offline, its script not cached): the jobs it held fail, later ones run here
    worker.addEventListener('error', () => {
      worker.terminate()
      for (const job of jobs.values()) job.reject(new Error('highlight worker failed'))
      jobs.clear()
      colourer = null
      startColourer()
    })
    resolve(blocks => new Promise((done, fail) => {
      const id = ++next
      jobs.set(id, { resolve: done, reject: fail })
      worker.postMessage({ id, blocks } satisfies ColourJob)
    }))
  })
  return colourer
}

/** Colours for these blocks, kept in `colours`; a block that cannot be coloured (offline, no highlighter) stays plain. */
function askColours(blocks: Block[]): Promise<void> {
  const fresh = blocks.filter(block => !asked.has(colourKey(block)))
  if (fresh.length) {
    const job = startColourer()
      .then(colour => colour(fresh))
      .catch(() => fresh.map(() => null))
      .then((html) => {
        fresh.forEach((block, i) => {
          colours.set(colourKey(block), html[i] ?? null)
          asked.delete(colourKey(block))
        })
        for (const key of colours.keys()) {
          if (colours.size <= MAX_COLOURS) break
          colours.delete(key)
        }
      })
    for (const block of fresh) asked.set(colourKey(block), job)
  }
  return Promise.all(blocks.map(block => asked.get(colourKey(block)))).then(() => {})
}

/**
 * The renderer's highlight hook: a colour already here, or null (plain) and the block noted as missing. A block
 * without a language is noted too (never asked for), so that the last one noted is always the text's last block.
 */
function colourOf(code: string, lang: string): string | null {
  const block = { code, lang }
  const colour = lang ? colours.get(colourKey(block)) : null
  if (colour !== undefined) return colour
  missing?.push(block)
  return null
}

/** Drops the colours kept (they hold the text of code blocks): the sign-out path calls it. */
export function forgetColours() {
  colours.clear()
}

/**
 * Starts loading the renderer before any message is on screen (the chat page calls it once a message is being
 * written), so the first answer does not wait for it. Messages on screen (useMarkdown) load it at once.
 */
export function preloadMarkdown() {
  if (typeof window === 'undefined' || modules.value) return
  void load()
}

function renderer(label: string): Render | null {
  if (!modules.value) return null
  let render = renderers.get(label)
  if (!render) {
    const [{ createMarkdownRenderer, createSanitizer }, { default: createPurify }] = modules.value
    const sanitize = createSanitizer(createPurify(window))
    render = createMarkdownRenderer({ highlight: colourOf, copyLabel: label, sanitize })
    renderers.set(label, render)
  }
  return render
}

/**
 * Markdown → sanitised HTML for model answers. `render` is null until the renderer has loaded (show plain
 * text meanwhile); it never returns unsanitised HTML. Code blocks come out coloured where their colours are known
 * (useMarkdownHtml asks for the rest). One renderer per copy-button label (i.e. per language).
 */
export function useMarkdown(copyLabel: MaybeRefOrGetter<string> = 'Copiar') {
  if (typeof window !== 'undefined') void load()
  const render = computed(() => renderer(toValue(copyLabel)))
  return { render, settled: computed(() => settled.value) }
}

// colours that arrive are shown one message per idle callback, across every message on the page
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
/** A fence line; an odd number of them means the text ends inside a code block (an answer still writing it). */
const FENCE_LINE = /^ {0,3}(?:```|~~~)/gm

/**
 * A message's Markdown as sanitised HTML (null until the renderer has loaded): painted first with the code blocks
 * whose colours are not known yet uncoloured, then again with them in an idle moment of its own, or as soon as they
 * arrive while `streaming()` holds. A streaming answer does not ask for the block it is still writing.
 */
export function useMarkdownHtml(source: () => string | null | undefined, copyLabel: MaybeRefOrGetter<string>, streaming: () => boolean = () => false) {
  const { render } = useMarkdown(copyLabel)
  // bumped when colours this message asked for have arrived: it renders again
  const coloured = ref(0)
  return computed(() => {
    const text = source()
    const html = render.value
    void coloured.value
    if (!text || !html) return null
    const live = streaming()
    const writing = live && (text.match(FENCE_LINE)?.length ?? 0) % 2 === 1
    missing = []
    let out: string
    try { out = html(live && !writing ? holdUnfinishedTable(text) : text) }
    finally {
      const noted = missing
      missing = null
      if (writing) noted.pop()
      const wanted = noted.filter(block => block.lang)
      if (wanted.length) {
        void askColours(wanted).then(() => (streaming() ? coloured.value++ : takeIdleTurn(() => { coloured.value++ })))
      }
    }
    return out
  })
}
