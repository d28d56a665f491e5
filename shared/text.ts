/**
 * The characters of a text as a person counts them (Unicode code points): an emoji is one, not the two UTF-16 units
 * `String.length` counts. Text limits in the API ("at most 255 characters") mean this count.
 */
export function charCount(text: string): number {
  let pairs = 0
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i)
    if (unit >= 0xD800 && unit <= 0xDBFF && i + 1 < text.length) {
      const next = text.charCodeAt(i + 1)
      if (next >= 0xDC00 && next <= 0xDFFF) { pairs++; i++ }
    }
  }
  return text.length - pairs
}

// a UTF-16 half without its other half: valid in JSON ("\ud800") but not text; PostgreSQL's jsonb refuses it
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/

/** What is wrong with a text no database column stores as sent (a NUL, half of a character), or null. */
export function textProblem(text: string): string | null {
  if (text.includes('\u0000')) return 'must not contain NUL characters'
  if (LONE_SURROGATE.test(text)) return 'must be valid Unicode text (it holds half of a character)'
  return null
}
