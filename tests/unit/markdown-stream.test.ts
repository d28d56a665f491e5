import { describe, expect, it } from 'vitest'
import { createMarkdownRenderer } from '../../utils/markdown'
import { holdUnfinishedTable } from '../../utils/markdown-stream'

const render = createMarkdownRenderer()
/** What a streaming answer holds after each character (models send a few characters at a time). */
const prefixes = (text: string) => Array.from({ length: text.length }, (_, i) => text.slice(0, i + 1))

describe('a table while its answer streams', () => {
  const answer = 'Capacidad por planta:\n\n| Planta | MW |\n|---|---:|\n| Norte | 120 |\n\nFin.'

  it('never shows a table row as raw text: every prefix renders without "|" outside a table', () => {
    const shown = prefixes(answer).map(text => render(holdUnfinishedTable(text)))
    for (const html of shown) expect(html.replace(/<table>[\s\S]*?<\/table>/g, '')).not.toContain('|')
    // without the hold the header row shows as text for a while (what it fixes)
    expect(prefixes(answer).some(text => render(text).replace(/<table>[\s\S]*?<\/table>/g, '').includes('|'))).toBe(true)
    // the table shows as soon as its delimiter row has every column, and the text before it all along
    expect(render(holdUnfinishedTable('Capacidad por planta:\n\n| Planta | MW |\n|---'))).not.toContain('|')
    expect(render(holdUnfinishedTable('Capacidad por planta:\n\n| Planta | MW |\n|---|--'))).toContain('<th>Planta</th>')
    expect(render(holdUnfinishedTable('Capacidad por planta:\n\n| Planta | MW'))).toContain('Capacidad por planta:')
  })

  it('holds only a trailing row with no delimiter under it; anything else is shown as written', () => {
    expect(holdUnfinishedTable('Texto\n\n| Planta | MW |')).toBe('Texto\n')
    expect(holdUnfinishedTable('Texto\n| Pla')).toBe('Texto')
    expect(holdUnfinishedTable('Texto\n\n| a | b |\n')).toBe('Texto\n')
    expect(holdUnfinishedTable('Texto\n\n| a | b |\n\n')).toBe('Texto\n\n| a | b |\n\n')
    expect(holdUnfinishedTable('| a |\n|---|\n| 1 |')).toBe('| a |\n|---|\n| 1 |')
    expect(holdUnfinishedTable('| a |\n|:-:|')).toBe('| a |\n|:-:|')
    expect(holdUnfinishedTable('a | b')).toBe('a | b')
    expect(holdUnfinishedTable('Hola\n\n')).toBe('Hola\n\n')
    expect(holdUnfinishedTable('')).toBe('')
  })
})
