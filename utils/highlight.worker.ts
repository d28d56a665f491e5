// Colours code blocks off the page's main thread: highlight.js's start-up (its language grammars) and the colouring
// of a long block take tens of milliseconds on a phone. Asked by composables/useMarkdown.ts, one message per job.
import { highlightCode } from './markdown-highlight'

export interface ColourJob { id: number, blocks: Array<{ code: string, lang: string }> }
export interface ColourResult { id: number, html: Array<string | null> }

addEventListener('message', (event: MessageEvent<ColourJob>) => {
  const { id, blocks } = event.data
  const result: ColourResult = { id, html: blocks.map(block => highlightCode(block.code, block.lang)) }
  postMessage(result)
})
