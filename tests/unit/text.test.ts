import { describe, expect, it } from 'vitest'
import * as v from 'valibot'
import { maxChars } from '../../shared/schemas'
import { charCount, textProblem } from '../../shared/text'

describe('charCount: characters as a person counts them (code points)', () => {
  it('counts an emoji (a surrogate pair) as one, and everything else as String.length does', () => {
    expect(charCount('')).toBe(0)
    expect(charCount('Copiapó')).toBe(7)
    expect(charCount('😀')).toBe(1)
    expect(charCount('a😀b😀')).toBe(4)
    // a flag is two code points (two regional indicators), as the API documents "characters"
    expect(charCount('🇨🇱')).toBe(2)
    // a lone half counts as one (the API refuses it before any limit is checked)
    expect(charCount('a\uD800')).toBe(2)
    expect(charCount('\uDC00\uD800')).toBe(2)
  })

  it('maxChars accepts exactly max characters and refuses one more, with the API\'s message', () => {
    const Title = v.pipe(v.string(), maxChars(3))
    expect(v.safeParse(Title, '😀😀😀').success).toBe(true)
    const over = v.safeParse(Title, '😀😀😀😀')
    expect(over.success).toBe(false)
    expect(over.issues?.[0]?.message).toBe('must be at most 3 characters')
    expect(v.safeParse(Title, 'abcd').success).toBe(false)
  })
})

describe('textProblem: text no database stores as sent', () => {
  it('names a NUL and a lone surrogate (either half), and passes whole pairs and ordinary text', () => {
    expect(textProblem('hola\u0000')).toMatch(/NUL/)
    expect(textProblem('a\uD800')).toMatch(/half of a character/)
    expect(textProblem('\uDC00a')).toMatch(/half of a character/)
    expect(textProblem('\uDC00\uD800')).toMatch(/half of a character/)
    expect(textProblem('😀 Copiapó ñandú')).toBeNull()
    expect(textProblem('')).toBeNull()
  })
})
