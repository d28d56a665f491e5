import MarkdownIt from 'markdown-it'
import type { DOMPurify } from 'dompurify'

/** Link targets a model answer may use; everything else (javascript:, data:, vbscript:, file:, …) stays text. */
const SAFE_LINK = /^(?:https?:\/\/|mailto:)/i

/** True for the URLs an answer may link to: http(s) and mailto only. */
export function isSafeLink(url: string): boolean {
  // browsers ignore leading spaces and control characters in a URL: do the same before judging it
  return SAFE_LINK.test(url.replace(/^[\s\u0000-\u001F]+/, ''))
}

export interface MarkdownOptions {
  /** Render `![alt](src)` as an image; off by default (a link to the image is shown instead). */
  images?: boolean
  /** Highlighted HTML for a code block, or null to show it as escaped text. Must escape what it returns. */
  highlight?: (code: string, lang: string) => string | null
  /** The copy button's label. */
  copyLabel?: string
}

/** A table cell that is a number (1.234,5 · -12 · 3,4 % · $ 1.200 · 12 MW): shown right-aligned. */
const NUMERIC_CELL = /^[-+−]?[$€]?\s?\d[\d.,\s\u00A0]*(?:\s?(?:%|[a-zA-Z]{1,4}))?$/

/**
 * markdown-it for model answers: no raw HTML (it is shown as text), linkified URLs, only http(s)/mailto links
 * (opened in a new tab without an opener), images off unless asked for, code blocks with a copy button.
 */
export function createMarkdown(options: MarkdownOptions = {}): MarkdownIt {
  const md = new MarkdownIt('default', { html: false, linkify: true, breaks: true, typographer: false })
  const escape = md.utils.escapeHtml
  md.validateLink = isSafeLink

  md.renderer.rules.link_open = (tokens, idx, opts, _env, self) => {
    const token = tokens[idx]!
    token.attrSet('target', '_blank')
    token.attrSet('rel', 'noopener noreferrer')
    return self.renderToken(tokens, idx, opts)
  }

  if (!options.images) {
    md.renderer.rules.image = (tokens, idx) => {
      const token = tokens[idx]!
      const src = token.attrGet('src') ?? ''
      const alt = token.content || src
      return `<a href="${escape(src)}" target="_blank" rel="noopener noreferrer" class="md-image-link">${escape(alt)}</a>`
    }
  }

  // column alignment as a class (DOMPurify drops style attributes); numeric cells align right on their own
  const cell: NonNullable<MarkdownIt['renderer']['rules'][string]> = (tokens, idx, opts, _env, self) => {
    const token = tokens[idx]!
    const align = /text-align:\s*(left|center|right)/.exec(token.attrGet('style') ?? '')?.[1]
    if (token.attrs) token.attrs = token.attrs.filter(([name]) => name !== 'style')
    const text = tokens[idx + 1]?.type === 'inline' ? tokens[idx + 1]!.content.trim() : ''
    const numeric = token.type === 'td_open' && NUMERIC_CELL.test(text)
    const kind = align ? `md-align-${align}` : numeric ? 'md-num' : null
    if (kind) token.attrJoin('class', kind)
    return self.renderToken(tokens, idx, opts)
  }
  md.renderer.rules.th_open = cell
  md.renderer.rules.td_open = cell

  md.renderer.rules.fence = (tokens, idx) => {
    const token = tokens[idx]!
    const lang = (token.info.trim().split(/\s+/)[0] ?? '').toLowerCase().replace(/[^\w+#.-]/g, '').slice(0, 32)
    const code = options.highlight?.(token.content, lang) ?? escape(token.content)
    const label = escape(options.copyLabel ?? 'Copiar')
    return '<div class="md-code">'
      + `<div class="md-code-bar"><span class="md-code-lang">${escape(lang || 'text')}</span>`
      + `<button type="button" class="md-code-copy" data-copy-code>${label}</button></div>`
      + `<pre><code class="hljs${lang ? ` language-${escape(lang)}` : ''}">${code}</code></pre></div>\n`
  }

  return md
}

const FORBIDDEN_TAGS = ['style', 'form', 'input', 'textarea', 'select', 'iframe', 'frame', 'object', 'embed', 'svg', 'math', 'video', 'audio', 'source', 'picture', 'link', 'meta', 'base']

/**
 * A second, independent guard on the rendered HTML (DOMPurify on a real DOM): drops scripts, event handlers,
 * style attributes and any URL that is not http(s)/mailto, and forces safe link attributes.
 */
export function createSanitizer(purify: DOMPurify, options: Pick<MarkdownOptions, 'images'> = {}) {
  purify.addHook('afterSanitizeAttributes', (node) => {
    if (node.nodeName === 'A') {
      const href = node.getAttribute('href')
      if (href && !isSafeLink(href)) node.removeAttribute('href')
      node.setAttribute('target', '_blank')
      node.setAttribute('rel', 'noopener noreferrer')
    }
  })
  const config = {
    FORBID_TAGS: options.images ? FORBIDDEN_TAGS : [...FORBIDDEN_TAGS, 'img'],
    FORBID_ATTR: ['style', 'srcset'],
    ALLOWED_URI_REGEXP: SAFE_LINK,
    ADD_ATTR: ['target'],
  }
  return (html: string): string => purify.sanitize(html, config)
}

/** Markdown source → safe HTML. Without a DOM (sanitize omitted) it relies on the markdown-it rules alone. */
export function createMarkdownRenderer(options: MarkdownOptions & { sanitize?: (html: string) => string } = {}) {
  const md = createMarkdown(options)
  return (source: string): string => {
    const html = md.render(source)
    return options.sanitize ? options.sanitize(html) : html
  }
}
