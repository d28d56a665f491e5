import { describe, expect, it } from 'vitest'
import { formatShortDate } from '../../i18n'

// Dates in lists: "14:05" today, "ayer 14:05", "3 dic" this year, "3 dic 2025" before (local time).
describe('formatShortDate', () => {
  const now = new Date(2026, 11, 5, 10, 30)
  const at = (y: number, m: number, d: number, h = 14, min = 5) => new Date(y, m, d, h, min)
  const clean = (text: string) => text.replace(/\s+/g, ' ').trim()

  // the clock as the language writes it (es-CL: "8:00 a. m.")
  const clock = (date: Date, tag: string) => clean(new Intl.DateTimeFormat(tag, { timeStyle: 'short' }).format(date))

  it('today: the time alone; just after midnight too', () => {
    for (const date of [at(2026, 11, 5, 8, 0), at(2026, 11, 5, 0, 1)]) {
      expect(clean(formatShortDate(date, 'es', now))).toBe(clock(date, 'es-CL'))
      expect(clean(formatShortDate(date, 'es', now))).toMatch(/\d:\d\d/)
    }
  })

  it('yesterday, in words, with the time; in each language; the day before is a date', () => {
    expect(clean(formatShortDate(at(2026, 11, 4, 23, 59), 'es', now))).toBe(`ayer ${clock(at(2026, 11, 4, 23, 59), 'es-CL')}`)
    expect(clean(formatShortDate(at(2026, 11, 4, 14, 5), 'en', now))).toBe('yesterday 2:05 PM')
    expect(clean(formatShortDate(at(2026, 11, 3, 23, 59), 'es', now))).toMatch(/^3 dic\.?$/)
  })

  it('earlier this year: day and month; another year: the date with its year', () => {
    expect(clean(formatShortDate(at(2026, 2, 3), 'es', now))).toMatch(/^3 mar\.?$/)
    expect(clean(formatShortDate(at(2025, 11, 3), 'es', now))).toMatch(/2025/)
    expect(clean(formatShortDate(at(2026, 2, 3), 'en', now))).toBe('Mar 3')
  })

  it('a date ahead of the clock (a device clock behind the server\'s) is not called "this year" without its year', () => {
    expect(clean(formatShortDate(at(2026, 11, 9), 'es', now))).toMatch(/2026/)
  })
})
