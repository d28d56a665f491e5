// Decides whether the Nuxt output is older than the sources, by a hash of every source file's path,
// size and modification time. Used by `npm start` and `npm test` so both build only when needed.
import { createHash } from 'node:crypto'
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '..')
const SOURCES = ['app', 'app.vue', 'error.vue', 'nuxt.config.ts', 'package-lock.json', 'assets', 'components', 'composables', 'drizzle',
  'i18n', 'layouts', 'middleware', 'modules', 'pages', 'plugins', 'public', 'server', 'shared', 'stores', 'utils']

function* files(path) {
  if (!existsSync(path)) return
  const stat = statSync(path)
  if (stat.isFile()) { yield [path, stat]; return }
  for (const name of readdirSync(path).sort()) yield* files(join(path, name))
}

export function sourceHash() {
  const hash = createHash('sha256')
  for (const entry of SOURCES) for (const [path, stat] of files(join(root, entry))) hash.update(`${path}:${stat.size}:${stat.mtimeMs}\n`)
  return hash.digest('hex').slice(0, 16)
}

export const outputDir = () => resolve(root, process.env.NUXT_OUTPUT_DIR || '.output')
const stampFile = () => join(outputDir(), '.source-hash')

export function buildIsFresh() {
  const stamp = stampFile()
  return existsSync(join(outputDir(), 'server', 'index.mjs')) && existsSync(stamp) && readFileSync(stamp, 'utf8') === sourceHash()
}

export const markBuilt = (hash) => writeFileSync(stampFile(), hash)
