import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

const alias = { '#shared': resolve(import.meta.dirname, 'shared') }
const api = (db: 'sqlite' | 'pg') => ({
  resolve: { alias },
  test: {
    name: `api-${db}`,
    include: ['tests/api/**/*.test.ts', 'tests/security/**/*.test.ts'],
    environment: 'node',
    env: { TEST_DB: db },
    // one worker process runs the project's files one after another (vitest's default forks a new one per file,
    // which cost ~20 % more CPU: 16 files, 52 → 41 s on SQLite, 58 → 46 s on PostgreSQL, on the 2 cores the three
    // projects share in CI). A file starts and stops what it uses in its own hooks; what support modules keep is
    // closed after each file by the setup file below (README "Tests")
    isolate: false,
    // per-file clean-up of the support modules' shared state (their clients of the project's shared database)
    setupFiles: ['tests/support/file-hooks.ts'],
    globalSetup: ['tests/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // a state the server reaches on its own (a ping, a stream's end) may take seconds on a busy 2-core CI machine:
    // the default 1 s budget made such waits flaky (events.test.ts's two pings 300 ms apart)
    expect: { poll: { timeout: 10_000, interval: 50 } },
  },
})

/**
 * Vitest's order (failed, then longest, then largest first), with the files that take the machine-wide heavy turn
 * (tests/support/heavy-turn.ts) moved: first in every project but PostgreSQL's, last in PostgreSQL's. `npm test` runs
 * the SQLite and PostgreSQL projects side by side, and in vitest's order both reached their heavy files in their first
 * minutes: the PostgreSQL project then sat idle waiting for the turn (slot-kills 77 s of a 92 s file, deploy-rollback
 * 32 s in a CI run), which made it the run's longest project. Apart, the turns no longer meet.
 */
class HeavyTurnSequencer extends BaseSequencer {
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

export default defineConfig({
  test: {
    // the files taking the machine-wide heavy turn: first in the SQLite project, last in PostgreSQL's (the two run side by side)
    sequence: { sequencer: HeavyTurnSequencer },
    projects: [
      // unit tests are CPU-bound: on a 2-core machine also running the API and browser projects, vitest's 5 s default
      // was too short (i18n-precompile compiles every text of both languages)
      { resolve: { alias }, test: { name: 'unit', include: ['tests/unit/**/*.test.ts'], environment: 'node', testTimeout: 30_000 } },
      api('sqlite'),
      api('pg'),
      {
        resolve: { alias },
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['tests/support/global-setup.ts'],
          testTimeout: 90_000,
          hookTimeout: 180_000,
          fileParallelism: false,
          // the support modules' per-file clean-up, as in the API projects (each e2e file has its own process, though)
          setupFiles: ['tests/support/file-hooks.ts'],
          // as long as a locator waits (SETTLE_MS in tests/support/browser.ts): pages are slow on a loaded CI machine
          expect: { poll: { timeout: 30_000, interval: 100 } },
        },
      },
    ],
  },
})
