/** Turning a model's Markdown answer into SMS text: plain, and in parts Twilio accepts. */

/** Twilio's limit for one message body. */
export const SMS_PART_CHARS = 1600

/**
 * Markdown → plain text a basic phone shows well: no emphasis marks, headings, fences or HTML; links as
 * "text (url)"; list bullets as "- "; numbered lists kept; at most one blank line in a row.
 */
export function flattenMarkdown(markdown: string): string {
  const lines: string[] = []
  let inFence = false
  for (const raw of markdown.replace(/\r\n?/g, '\n').split('\n')) {
    if (/^\s*(```|~~~)/.test(raw)) { inFence = !inFence; continue }
    if (inFence) { lines.push(raw); continue }
    let line = raw
    if (/^\s*([-*_])(\s*\1){2,}\s*$/.test(line)) { lines.push(''); continue } // horizontal rule
    if (/^\s*\|?\s*:?-{3,}:?\s*(\|\s*:?-{3,}:?\s*)*\|?\s*$/.test(line)) continue // table separator row
    line = line
      .replace(/^\s{0,3}#{1,6}\s+/, '')
      .replace(/^\s*>\s?/, '')
      .replace(/^(\s*)[*+-]\s+\[([ xX])\]\s+/, (_, indent: string, mark: string) => `${indent}- [${mark === ' ' ? ' ' : 'x'}] `)
      .replace(/^(\s*)[*+]\s+/, '$1- ')
      .replace(/!\[([^\]]*)\]\([^)]*\)/g, '$1')
      .replace(/\[([^\]]+)\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g, (_, text: string, url: string) => (text === url ? url : `${text} (${url})`))
      .replace(/<\/?[a-z][^>]*>/gi, '')
      .replace(/`([^`]+)`/g, '$1')
      .replace(/(\*\*|__)(?=\S)([\s\S]*?\S)\1/g, '$2')
      .replace(/(^|[^\w*])\*(?=\S)([^*]*?\S)\*(?!\w)/g, '$1$2')
      .replace(/(^|[^\w_])_(?=\S)([^_]*?\S)_(?!\w)/g, '$1$2')
      .replace(/~~(?=\S)([\s\S]*?\S)~~/g, '$1')
      .replace(/^\s*\|(.*)\|\s*$/, (_, cells: string) => cells.split('|').map(c => c.trim()).join(' | '))
      .replace(/\s+$/, '')
    lines.push(line)
  }
  return lines.join('\n').replace(/\n{3,}/g, '\n\n').trim()
}

/**
 * Splits text into parts of at most `max` characters, cutting at a paragraph, line, sentence or word break when
 * one is in the second half of the part, and never inside a surrogate pair.
 */
export function splitMessage(text: string, max = SMS_PART_CHARS): string[] {
  const parts: string[] = []
  let rest = text.trim()
  while (rest.length > max) {
    const window = rest.slice(0, max + 1)
    let cut = -1
    for (const pattern of [/\n\n(?=[^\n]*$)/, /\n(?=[^\n]*$)/, /[.!?](?=\s[^.!?]*$)/, /\s(?=\S*$)/]) {
      const match = pattern.exec(window.slice(0, max))
      if (match && match.index >= max / 2) { cut = match.index + (/[.!?]/.test(match[0]) ? 1 : 0); break }
    }
    if (cut <= 0) {
      cut = max
      const code = rest.charCodeAt(cut - 1)
      if (code >= 0xD800 && code <= 0xDBFF) cut -= 1
    }
    parts.push(rest.slice(0, cut).trimEnd())
    rest = rest.slice(cut).trimStart()
  }
  if (rest) parts.push(rest)
  return parts
}
