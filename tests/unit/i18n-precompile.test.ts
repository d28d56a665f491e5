import { readdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { compiledModule, compileMessage, compileMessages, i18nPrecompile } from '../../modules/i18n-precompile'

// The client build compiles every text at build time and drops vue-i18n's message compiler
// (__INTLIFY_DROP_MESSAGE_COMPILER__): here the same runtime, without its compiler, formats the compiled texts.
const LOCALES = resolve(import.meta.dirname, '../../i18n/locales')
type Tree = { [key: string]: string | Tree }

async function load(locale: string): Promise<Record<string, Tree>> {
  const areas = readdirSync(resolve(LOCALES, locale)).filter(f => f.endsWith('.ts')).sort()
  return Object.fromEntries(await Promise.all(areas.map(async file => [file.replace(/\.ts$/, ''), (await import(resolve(LOCALES, locale, file))).default as Tree])))
}

const leaves = (tree: object, prefix = ''): string[] => Object.entries(tree).flatMap(([key, value]) =>
  typeof value === 'string' || (value && 't' in value) ? [`${prefix}${key}`] : leaves(value, `${prefix}${key}.`))

type Translate = (key: string, arg?: Record<string, unknown> | unknown[] | number) => string
async function runtimeWithoutCompiler(messages: Record<string, object>): Promise<Translate> {
  // (vue-i18n's own types for arbitrary messages are too deep for the checker)
  const createI18n = (await import('vue-i18n')).createI18n as unknown as (options: object) => { global: { t: (...args: unknown[]) => string } }
  const { global } = createI18n({ legacy: false, locale: 'es', fallbackLocale: 'es', messages, missingWarn: false, fallbackWarn: false })
  return (key, arg) => global.t(key, arg ?? {})
}

describe('i18n texts compiled at build time', () => {
  beforeAll(() => { vi.stubGlobal('__INTLIFY_DROP_MESSAGE_COMPILER__', true) })
  afterAll(() => { vi.unstubAllGlobals() })

  it('compiles every text of both languages, keys unchanged', async () => {
    for (const locale of ['es', 'en']) {
      const source = await load(locale)
      const compiled = Object.fromEntries(Object.entries(source).map(([area, tree]) => [area, compileMessages(tree, `${area}.`)]))
      expect(leaves(compiled).sort()).toEqual(leaves(source).sort())
    }
  })

  it('formats compiled texts with the compiler dropped: static, named, plural, list, linked', async () => {
    const es = await load('es')
    const t = await runtimeWithoutCompiler({
      es: {
        ...Object.fromEntries(Object.entries(es).map(([area, tree]) => [area, compileMessages(tree)])),
        demo: compileMessages({ hello: 'Hola {0} y {1}', who: 'equipo', linked: '@:demo.who listo', raw: 'x' }),
        uncompiled: { text: 'Hola {name}' },
      },
    })
    expect(t('chat.newChat')).toBe('Nueva conversación')
    expect(t('chat.noResults', { q: 'turno' })).toBe('Nada coincide con «turno».')
    expect([0, 1, 5].map(n => t('admin.people.count', n))).toEqual(['Sin usuarios', '1 usuario', '5 usuarios'])
    expect(t('demo.hello', ['Ana', 'Luis'])).toBe('Hola Ana y Luis')
    expect(t('demo.linked')).toBe('equipo listo')
    // a missing key is answered with the key, as before (no compile involved)
    expect(t('chat.noSuchKey')).toBe('chat.noSuchKey')
    // proof that this runtime has no compiler: a plain string text is not interpolated
    expect(t('uncompiled.text', { name: 'Ana' })).toBe('Hola {name}')
  })

  it('rejects a text that does not compile, naming its key', () => {
    expect(() => compileMessage('Hola {nombre', 'chat.greeting')).toThrow(/chat\.greeting/)
  })

  it('replaces only locale files, with a module holding the compiled tree', async () => {
    const plugin = i18nPrecompile()
    const transform = plugin.transform as (code: string, id: string) => Promise<{ code: string } | undefined>
    expect(await transform('export default { a: "b" }', '/app/components/Foo.ts')).toBeUndefined()
    const out = await transform('export default { greet: "Hola {name}", nested: { n: "a | b" } }', '/app/i18n/locales/es/demo.ts?v=1')
    const mod = await import(`data:text/javascript;base64,${Buffer.from(out!.code).toString('base64')}`)
    expect(mod.default).toEqual(compileMessages({ greet: 'Hola {name}', nested: { n: 'a | b' } }))
    expect(out!.code).toBe(compiledModule({ greet: 'Hola {name}', nested: { n: 'a | b' } }, 'demo'))
  })
})
