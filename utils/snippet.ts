/** A search hit's matched text (GET /api/conversations?q): plain text and UTF-16 `[start, end)` ranges to mark. */
export interface SearchSnippet { text: string, highlights: Array<[number, number]> }

export interface SnippetSegment { text: string, mark: boolean }

/** The snippet as plain and marked segments, in order (ranges clamped, sorted and merged; bad ones dropped). */
export function snippetSegments(snippet: SearchSnippet | null | undefined): SnippetSegment[] {
  if (!snippet || typeof snippet.text !== 'string') return []
  const { text } = snippet
  const ranges = (Array.isArray(snippet.highlights) ? snippet.highlights : [])
    .filter((r): r is [number, number] => Array.isArray(r) && Number.isInteger(r[0]) && Number.isInteger(r[1]))
    .map(([a, b]) => [Math.max(0, a), Math.min(text.length, b)] as [number, number])
    .filter(([a, b]) => b > a)
    .sort((x, y) => x[0] - y[0])
  const merged: Array<[number, number]> = []
  for (const range of ranges) {
    const last = merged.at(-1)
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1])
    else merged.push([...range])
  }
  const out: SnippetSegment[] = []
  let at = 0
  for (const [a, b] of merged) {
    if (a > at) out.push({ text: text.slice(at, a), mark: false })
    out.push({ text: text.slice(a, b), mark: true })
    at = b
  }
  if (at < text.length) out.push({ text: text.slice(at), mark: false })
  return out
}
