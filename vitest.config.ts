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
    globalSetup: ['tests/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // a state the server reaches on its own (a ping, a stream's end) may take seconds on a busy 2-core CI machine:
    // the default 1 s budget made such waits flaky (events.test.ts's two pings 300 ms apart)
    expect: { poll: { timeout: 10_000, interval: 50 } },
  },
})

/**
 * The files that take the machine-wide heavy turn (tests/support/heavy-turn.ts) run first in the SQLite project and
 * last in the PostgreSQL one. `npm test` runs both side by side, and in the same order (largest file first): they
 * reached their heavy files at the same time, and the PostgreSQL project waited out the SQLite one's turns (CI: its
 * deploy test took 140 s, 84 s of them its own).
 */
class HeavyApart extends BaseSequencer {
  override async sort(files: TestSpecification[]) {
    const sorted = await super.sort(files)
    const heavy = (spec: TestSpecification) => /^heavyTurn\(/m.test(readFileSync(spec.moduleId, 'utf8'))
    const rank = (spec: TestSpecification) => (heavy(spec) ? (spec.project.name === 'api-pg' ? 1 : -1) : 0)
    // within each project only: projects keep their order
    const project = new Map<string, number>()
    for (const spec of sorted) if (!project.has(spec.project.name)) project.set(spec.project.name, project.size)
    return sorted.map((spec, i) => ({ spec, i, project: project.get(spec.project.name)!, rank: rank(spec) }))
      .sort((a, b) => a.project - b.project || a.rank - b.rank || a.i - b.i)
      .map(x => x.spec)
  }
}

export default defineConfig({
  test: {
    sequence: { sequencer: HeavyApart },
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
          // as long as a locator waits (SETTLE_MS in tests/support/browser.ts): pages are slow on a loaded CI machine
          expect: { poll: { timeout: 30_000, interval: 100 } },
        },
      },
    ],
  },
})
