import { describe, expect, it } from 'vitest'
import { createMarkdownRenderer, isSafeLink } from '../../utils/markdown'
import { highlightCode } from '../../utils/markdown-highlight'

// These cover the markdown-it layer, which must be safe on its own; DOMPurify (a second guard that needs a DOM)
// is exercised in Chromium by tests/e2e/chat.test.ts.
const render = createMarkdownRenderer({ highlight: highlightCode, copyLabel: 'Copiar' })
const hrefs = (html: string) => [...html.matchAll(/href="([^"]*)"/g)].map(m => m[1])

describe('markdown rendering of model answers', () => {
  it('raw HTML from the model is shown as text, never as elements', () => {
    const html = render('Hola <script>alert(1)</script> <img src=x onerror=alert(1)> <iframe src="https://x"></iframe>')
    expect(html).not.toMatch(/<script|<img|<iframe/i)
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
  })

  it('an HTML block is escaped too', () => {
    const html = render('<div onclick="alert(1)">\n<style>body{display:none}</style>\n</div>')
    expect(html).not.toMatch(/<div onclick|<style/i)
  })

  it.each([
    '[x](javascript:alert(1))',
    '[x](JaVaScRiPt:alert(1))',
    '[x]( javascript:alert(1))',
    '[x](&#106;avascript:alert(1))',
    '[x](java\tscript:alert(1))',
    '[x](vbscript:msgbox(1))',
    '[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)',
    '[x](file:///etc/passwd)',
    '<javascript:alert(1)>',
    '[x][r]\n\n[r]: javascript:alert(1)',
  ])('%s does not become a link', (source) => {
    const html = render(source)
    expect(hrefs(html)).toEqual([])
    expect(html).not.toMatch(/<a /)
  })

  it('http(s) and mailto links open in a new tab without an opener', () => {
    const html = render('[docs](https://example.com/a?b=1) y [correo](mailto:ti@example.com)')
    expect(hrefs(html)).toEqual(['https://example.com/a?b=1', 'mailto:ti@example.com'])
    expect(html.match(/target="_blank"/g)).toHaveLength(2)
    expect(html.match(/rel="noopener noreferrer"/g)).toHaveLength(2)
  })

  it('bare URLs are linkified with the same safe attributes', () => {
    const html = render('Ver https://example.com/manual para más detalles')
    expect(hrefs(html)).toEqual(['https://example.com/manual'])
    expect(html).toContain('rel="noopener noreferrer"')
  })

  it('a link title cannot break out of its attribute', () => {
    const html = render('[x](https://example.com "\\" onmouseover=\\"alert(1)")')
    expect(html).toContain('title="&quot; onmouseover=&quot;alert(1)"')
    expect(html).not.toMatch(/\sonmouseover="/)
  })

  it('images are off by default: shown as a link to the image, not loaded', () => {
    const html = render('![plano](https://example.com/plano.png)')
    expect(html).not.toMatch(/<img/i)
    expect(hrefs(html)).toEqual(['https://example.com/plano.png'])
    expect(html).toContain('>plano</a>')
  })

  it('an image with a javascript: or data: source is plain text', () => {
    const html = render('![a](javascript:alert(1)) ![b](data:image/svg+xml;base64,PHN2Zz4=)')
    expect(html).not.toMatch(/<img|<a /i)
  })

  it('images can be turned on explicitly', () => {
    const withImages = createMarkdownRenderer({ images: true })
    expect(withImages('![plano](https://example.com/plano.png)')).toMatch(/<img src="https:\/\/example.com\/plano.png" alt="plano"/)
  })

  it('code blocks are highlighted, escaped and get a copy button', () => {
    const html = render('```js\nconst a = "<script>alert(1)</script>"\n```')
    expect(html).toContain('class="md-code-copy"')
    expect(html).toContain('class="hljs language-js"')
    expect(html).toContain('<span class="hljs-keyword">const</span>')
    expect(html).not.toContain('<script>')
    expect(html).toContain('&lt;script&gt;')
  })

  it('code in an unknown language is escaped plain text; the language label is escaped', () => {
    const html = render('```"><img src=x onerror=alert(1)>\n<b>hola</b>\n```')
    expect(html).not.toMatch(/<img|<b>/)
    expect(html).toContain('&lt;b&gt;hola&lt;/b&gt;')
  })

  it('tables, lists and emphasis render', () => {
    const html = render('| a | b |\n|---|---|\n| 1 | 2 |\n\n- **uno**\n- _dos_')
    expect(html).toContain('<table>')
    expect(html).toContain('<strong>uno</strong>')
    expect(html).toContain('<em>dos</em>')
  })
})

describe('isSafeLink', () => {
  it.each(['https://a.cl', 'http://a.cl/x', 'mailto:a@b.cl', 'HTTPS://A.CL'])('%s is allowed', url => expect(isSafeLink(url)).toBe(true))
  it.each(['javascript:alert(1)', ' javascript:x', '\u0001javascript:x', 'data:text/html,x', 'vbscript:x', 'file:///x', '//evil.example', '/relative', 'ftp://x'])(
    '%s is refused', url => expect(isSafeLink(url)).toBe(false),
  )
})
