import { spawnSync } from 'node:child_process'
import { resolve } from 'node:path'
import { buildIsFresh, markBuilt, sourceHash } from './build-state.mjs'

/** Runs `nuxt build` unless the output already matches the sources. */
export function ensureBuild({ quiet = false } = {}) {
  if (buildIsFresh()) return false
  const hash = sourceHash()
  console.log('energyapp: building the app (nuxt build)…')
  const result = spawnSync(process.execPath, [resolve(import.meta.dirname, '../node_modules/nuxt/bin/nuxt.mjs'), 'build'], {
    cwd: resolve(import.meta.dirname, '..'),
    stdio: quiet ? ['ignore', 'ignore', 'inherit'] : 'inherit',
    env: { ...process.env, NODE_ENV: 'production' },
  })
  if (result.status !== 0) {
    console.error(`energyapp: the build failed${quiet ? ' (run `npx nuxi build` to see its whole output)' : ''}`)
    process.exit(result.status ?? 1)
  }
  markBuilt(hash)
  return true
}

if (import.meta.url === `file://${process.argv[1]}`) ensureBuild()
