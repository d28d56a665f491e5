import { describe, expect, it } from 'vitest'
import { addressPattern, pagePreloads } from '../../build/boot-preload'

describe('the shell\'s first-page preload table (build/boot-preload.ts)', () => {
  it('turns the router\'s addresses into patterns that match what the router does', () => {
    const chat = new RegExp(addressPattern('/chat/:id?'))
    expect(['/chat', '/chat/', '/chat/abc'].every(p => chat.test(p))).toBe(true)
    expect(['/chat/abc/def', '/chatty', '/'].some(p => chat.test(p))).toBe(false)
    const home = new RegExp(addressPattern('/'))
    expect(home.test('/')).toBe(true)
    expect(home.test('/chat')).toBe(false)
    expect(new RegExp(addressPattern('/admin/users')).test('/admin/users/')).toBe(true)
  })

  it('lists a page\'s chunks and everything they import, but nothing the entry already loads', () => {
    const manifest = {
      'entry.js': { file: 'E.js', isEntry: true, imports: ['shared.js'] },
      'shared.js': { file: 'S.js' },
      'pages/a.vue': { file: 'A.js', imports: ['entry.js', 'lib.js', 'shared.js'], css: ['a.css'] },
      'lib.js': { file: 'L.js', imports: ['deep.js'], css: ['lib.css'] },
      'deep.js': { file: 'D.js', imports: ['lib.js'] },
      'layouts/default.vue': { file: 'Y.js', css: ['y.css'] },
    }
    expect(pagePreloads(manifest, [{ pattern: '^/a/?$', sources: ['pages/a.vue', 'layouts/default.vue'] }, { pattern: '^/none/?$', sources: ['pages/missing.vue'] }]))
      .toEqual([{ pattern: '^/a/?$', scripts: ['A.js', 'L.js', 'D.js', 'Y.js'], styles: ['a.css', 'lib.css', 'y.css'] }])
  })
})
