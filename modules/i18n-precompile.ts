import { baseCompile } from '@intlify/message-compiler'
import { addVitePlugin, defineNuxtModule } from 'nuxt/kit'
import type { Plugin } from 'vite'

/** A locale file: i18n/locales/<locale>/<area>.ts, a default-exported tree of texts. */
const LOCALE_FILE = /\/i18n\/locales\/[^/]+\/[^/]+\.ts$/

interface MessageTree { [key: string]: string | MessageTree }
type AstNode = { [key: string]: unknown }
type AstTree = { [key: string]: AstNode | AstTree }

// a text without placeholders is formatted from its `s` (static) alone: its items only repeat it
function dropStaticItems(node: unknown) {
  if (!node || typeof node !== 'object') return
  const n = node as AstNode
  if (typeof n.s === 'string') delete n.i
  for (const value of Object.values(n)) {
    if (Array.isArray(value)) value.forEach(dropStaticItems)
    else dropStaticItems(value)
  }
}

/** One text compiled to vue-i18n's message AST (what its runtime-only build formats); a syntax error throws. */
export function compileMessage(source: string, key: string): AstNode {
  const errors: string[] = []
  const { ast } = baseCompile(source, { jit: true, minify: true, location: false, onError: error => errors.push(error.message) })
  if (errors.length) throw new Error(`i18n text ${key} does not compile (${errors.join('; ')}): ${JSON.stringify(source)}`)
  dropStaticItems(ast)
  return ast as unknown as AstNode
}

/** Every text of a tree compiled, the keys unchanged. */
export function compileMessages(tree: MessageTree, prefix = ''): AstTree {
  return Object.fromEntries(Object.entries(tree).map(([key, value]) => [key, typeof value === 'string'
    ? compileMessage(value, `${prefix}${key}`)
    : compileMessages(value, `${prefix}${key}.`)]))
}

/** The module that replaces a locale file: its compiled tree, parsed as JSON (cheaper to parse than a literal). */
export function compiledModule(tree: MessageTree, area: string) {
  return `export default JSON.parse(${JSON.stringify(JSON.stringify(compileMessages(tree, `${area}.`)))})\n`
}

/** Vite plugin: each locale file, already plain JS here (after vite:esbuild), is evaluated and compiled. */
export function i18nPrecompile(): Plugin {
  return {
    name: 'energyapp:i18n-precompile',
    async transform(code, id) {
      const file = id.split('?')[0]!
      if (!LOCALE_FILE.test(file)) return
      // the files are data only (no imports): evaluated as a module of their own
      const mod = await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`) as { default?: MessageTree }
      if (!mod.default || typeof mod.default !== 'object') throw new Error(`${file}: expected \`export default { … }\``)
      const area = file.slice(file.lastIndexOf('/') + 1, -'.ts'.length)
      return { code: compiledModule(mod.default, area), map: null }
    },
  }
}

// Texts are compiled at build time, so the client bundle needs no message compiler (vue-i18n's runtime-only
// mode): less JS to download and evaluate before the first paint, and no per-text compile on first use.
// (vue-i18n 11's dist/vue-i18n.runtime.mjs is the same code as its default entry: the compiler is dropped by
// the __INTLIFY_DROP_MESSAGE_COMPILER__ define below, so no alias is needed.)
export default defineNuxtModule({
  meta: { name: 'i18n-precompile' },
  setup(_options, nuxt) {
    addVitePlugin(i18nPrecompile())
    nuxt.options.vite.define = {
      ...nuxt.options.vite.define,
      // every text reaching vue-i18n is a compiled AST: its string compiler is tree-shaken away
      __INTLIFY_DROP_MESSAGE_COMPILER__: 'true',
      // the app uses the Composition API only (createI18n({ legacy: false }))
      __VUE_I18N_LEGACY_API__: 'false',
      // <i18n-t> is used (admin audit log), so the components stay installed
      __VUE_I18N_FULL_INSTALL__: 'true',
      __INTLIFY_PROD_DEVTOOLS__: 'false',
    }
  },
})
