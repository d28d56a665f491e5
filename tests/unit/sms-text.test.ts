import { describe, expect, it } from 'vitest'
import { flattenMarkdown, SMS_PART_CHARS, splitMessage } from '../../server/services/channels/sms-text'
import { signTwilio } from '../support/fake-twilio'
import { twilioSignature, validSignature } from '../../server/services/channels/twilio'

describe('flattenMarkdown', () => {
  it('drops emphasis, headings, fences, quotes and HTML; keeps the words, list items and link targets', () => {
    const md = [
      '# Título', '', '**Negrita** y _cursiva_ y *otra* y `código` y ~~tachado~~.', '',
      '- uno', '* dos', '1. tres', '', '> cita', '', '```js', 'const x = 1', '```', '',
      'Ver [el manual](https://x.cl/m) y ![foto](https://x.cl/f.png) <b>html</b>', '---', '', '', '', 'fin',
    ].join('\n')
    expect(flattenMarkdown(md)).toBe([
      'Título', '', 'Negrita y cursiva y otra y código y tachado.', '',
      '- uno', '- dos', '1. tres', '', 'cita', '', 'const x = 1', '',
      'Ver el manual (https://x.cl/m) y foto html', '', 'fin',
    ].join('\n'))
  })

  it('leaves snake_case words and arithmetic alone', () => {
    expect(flattenMarkdown('usa report_id y 2 * 3 * 4')).toBe('usa report_id y 2 * 3 * 4')
  })

  it('turns a table into lines of cells', () => {
    expect(flattenMarkdown('| a | b |\n|---|---|\n| 1 | 2 |')).toBe('a | b\n1 | 2')
  })
})

describe('splitMessage', () => {
  it('keeps a short text whole', () => {
    expect(splitMessage('hola')).toEqual(['hola'])
    expect(splitMessage('x'.repeat(SMS_PART_CHARS))).toHaveLength(1)
  })

  it('cuts at most 1600 characters per part, at a paragraph, sentence or word break, losing nothing', () => {
    const text = Array.from({ length: 12 }, (_, i) => `Párrafo ${i}. ${'palabra '.repeat(40).trim()}.`).join('\n\n')
    const parts = splitMessage(text)
    expect(parts.length).toBeGreaterThan(1)
    for (const part of parts) {
      expect(part.length).toBeLessThanOrEqual(SMS_PART_CHARS)
      expect(part).toMatch(/^Párrafo \d+\./)
    }
    expect(parts.join('\n\n')).toBe(text)
  })

  it('cuts a text without breaks at the limit, never inside an emoji', () => {
    const text = `${'a'.repeat(SMS_PART_CHARS - 1)}😀${'b'.repeat(10)}`
    const parts = splitMessage(text)
    expect(parts[0]).toBe('a'.repeat(SMS_PART_CHARS - 1))
    expect(parts[1]).toBe(`😀${'b'.repeat(10)}`)
  })
})

describe('X-Twilio-Signature', () => {
  // Twilio's documented example (https://www.twilio.com/docs/usage/security#validating-requests)
  const url = 'https://mycompany.com/myapp.php?foo=1&bar=2'
  const params = { CallSid: 'CA1234567890ABCDE', Caller: '+12349013030', Digits: '1234', From: '+12349013030', To: '+18005551212' }

  it('matches the value Twilio documents', () => {
    expect(twilioSignature('12345', url, new URLSearchParams(params))).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=')
    expect(signTwilio('12345', url, params)).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=')
  })

  it('accepts only the exact signature', () => {
    const form = new URLSearchParams(params)
    expect(validSignature('12345', '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', url, form)).toBe(true)
    expect(validSignature('12345', undefined, url, form)).toBe(false)
    expect(validSignature('12345', '0/KCTR6DLpKmkAf8muzZqo1nDgQ', url, form)).toBe(false)
    expect(validSignature('other', '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', url, form)).toBe(false)
    form.set('Digits', '1235')
    expect(validSignature('12345', '0/KCTR6DLpKmkAf8muzZqo1nDgQ=', url, form)).toBe(false)
  })
})
