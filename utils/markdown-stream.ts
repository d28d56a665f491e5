// Apart from utils/markdown.ts, which loads markdown-it on first use: the composable calling this is in the chat's bundle.

/** A table's delimiter row (`|---|---:|`), or the start of one still being written (`| --`). */
const TABLE_DELIMITER = /^ {0,3}\|?\s*:?-+:?\s*(?:\|\s*:?-*:?\s*)*\|?\s*$/
const TABLE_ROW = /^ {0,3}\|/
const cells = (row: string) => row.trim().replace(/^\|/, '').replace(/\|$/, '').split('|').length

/**
 * While an answer streams, a table's first row would show as raw text ("| Planta | MW |") until its `|---|` line
 * arrives, then jump into a table: the answer's last lines are held back while they are a `|` row with no delimiter
 * row under it yet, or one with fewer columns so far (markdown-it shows a table only once they match). (Not for text inside an open code block; the whole answer renders once it ends.)
 */
export function holdUnfinishedTable(text: string): string {
  const lines = text.split('\n')
  // (a row just ended with its line break is still waiting for the next)
  const end = lines.at(-1) === '' ? lines.length - 1 : lines.length
  let start = end
  while (start > 0 && TABLE_ROW.test(lines[start - 1]!)) start--
  const rows = lines.slice(start, end)
  if (!rows.length || (rows.length >= 2 && TABLE_DELIMITER.test(rows[1]!) && cells(rows[1]!) >= cells(rows[0]!))) return text
  return lines.slice(0, start).join('\n')
}
