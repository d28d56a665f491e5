import { describe, expect, it } from 'vitest'
import { textSnippet } from '../../server/services/search'

// SQLite search cuts the snippet in JS (server/services/search.ts textSnippet), as FTS5's snippet() would
describe('textSnippet', () => {
  const fold = (s: string) => s.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()

  it('highlights every word that starts with a searched word, accents and case folded both ways', () => {
    const text = 'Revisión en COPIAPÓ:\nel técnico <b>llegó</b> a Copiapo y la energía volvió'
    const { text: out, highlights } = textSnippet(text, ['copiapo', 'energia'])
    expect(out).toBe(text.replace('\n', ' '))
    expect(highlights.map(([a, b]) => fold(out.slice(a, b)))).toEqual(['copiapo', 'copiapo', 'energia'])
    expect(out).toContain('<b>llegó</b>')
  })

  it('cuts long text to the 24-token window with the most hits, marks the cuts, keeps the ranges on the match', () => {
    const words = Array.from({ length: 60 }, (_, i) => `palabra${i}`)
    words[40] = 'Mantención'
    const { text, highlights } = textSnippet(words.join(' '), ['mantencion'])
    expect(text.startsWith('…')).toBe(true)
    expect(text.endsWith('…')).toBe(true)
    expect(text.split(' ').length).toBe(24)
    expect(highlights).toHaveLength(1)
    expect(text.slice(...highlights[0]!)).toBe('Mantención')
  })

  it('short text with no match: the whole text, no ranges', () => {
    expect(textSnippet('hola', ['zzz'])).toEqual({ text: 'hola', highlights: [] })
    expect(textSnippet('', ['zzz'])).toEqual({ text: '', highlights: [] })
  })
})
