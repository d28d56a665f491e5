import { readFileSync } from 'node:fs'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

/**
 * Vitest's order (failed, then longest, then largest first), with the files that take the machine-wide heavy turn
 * (tests/support/heavy-turn.ts) moved: first in every project but PostgreSQL's, last in PostgreSQL's. `npm test` runs
 * the SQLite and PostgreSQL projects side by side, and in vitest's order both reached their heavy files in their first
 * minutes: the PostgreSQL project then sat idle waiting for the turn (slot-kills 77 s of a 92 s file, deploy-rollback
 * 32 s in a CI run), which made it the run's longest project. Apart, the turns no longer meet.
 */
export default class HeavyTurnSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files)
    const heavy = new Set(sorted.filter(takesHeavyTurn))
    const light = sorted.filter(f => !heavy.has(f))
    const last = [...heavy].filter(f => f.project.name === 'api-pg')
    const first = [...heavy].filter(f => f.project.name !== 'api-pg')
    return [...first, ...light, ...last]
  }
}

const known = new Map<string, boolean>()
function takesHeavyTurn(file: TestSpecification) {
  let heavy = known.get(file.moduleId)
  if (heavy === undefined) {
    try { heavy = /^heavyTurn\(/m.test(readFileSync(file.moduleId, 'utf8')) }
    catch { heavy = false }
    known.set(file.moduleId, heavy)
  }
  return heavy
}
