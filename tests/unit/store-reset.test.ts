import { readdirSync, readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { KEPT_ON_SIGN_OUT } from '../../utils/stores'

// plugins/reset-stores.ts calls every store's own $reset() on sign-out; a setup store without one would keep
// the last user's data (Pinia's default $reset does nothing for setup stores in production)
const STORES = resolve(import.meta.dirname, '../../stores')

describe('store reset on sign-out', () => {
  const files = readdirSync(STORES).filter(f => f.endsWith('.ts'))
  const stores = files.map((file) => {
    const source = readFileSync(resolve(STORES, file), 'utf8')
    return { file, id: /defineStore\('([^']+)'/.exec(source)?.[1], source }
  })

  it('finds the stores', () => {
    expect(stores.filter(s => s.id).length).toBeGreaterThanOrEqual(10)
  })

  it.each(stores.filter(s => s.id && !KEPT_ON_SIGN_OUT.has(s.id)).map(s => [s.file, s.source]))('%s returns its own $reset', (_file, source) => {
    expect(source).toMatch(/return \{[\s\S]*\$reset[\s\S]*\}\s*\}\)\s*$/)
  })
})
