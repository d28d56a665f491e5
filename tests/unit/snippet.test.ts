import { describe, expect, it } from 'vitest'
import { snippetSegments } from '../../utils/snippet'

describe('search snippet segments', () => {
  it('splits the text into plain and marked parts at the ranges', () => {
    expect(snippetSegments({ text: 'planta Copiapó al norte', highlights: [[7, 14]] })).toEqual([
      { text: 'planta ', mark: false },
      { text: 'Copiapó', mark: true },
      { text: ' al norte', mark: false },
    ])
  })

  it('merges overlapping ranges, sorts them, and drops empty, reversed or out-of-text ones', () => {
    expect(snippetSegments({ text: 'abcdefgh', highlights: [[5, 7], [0, 2], [1, 3], [4, 4], [6, 5], [7, 99]] })).toEqual([
      { text: 'abc', mark: true },
      { text: 'de', mark: false },
      { text: 'fgh', mark: true },
    ])
  })

  it('null (only the title matched) or a malformed snippet gives nothing; no ranges gives the plain text', () => {
    expect(snippetSegments(null)).toEqual([])
    expect(snippetSegments({ text: 42 } as never)).toEqual([])
    expect(snippetSegments({ text: 'sin marcas', highlights: [] })).toEqual([{ text: 'sin marcas', mark: false }])
  })

  it('ranges are UTF-16 offsets: an emoji before the match keeps the mark on the right characters', () => {
    const text = '🔥 turbina'
    expect(snippetSegments({ text, highlights: [[3, 10]] })).toEqual([{ text: '🔥 ', mark: false }, { text: 'turbina', mark: true }])
  })
})
