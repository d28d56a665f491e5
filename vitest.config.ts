import { resolve } from 'node:path'
import { defineConfig } from 'vitest/config'
import HeavyTurnSequencer from './tests/support/sequencer.ts'

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
          // as long as a locator waits (SETTLE_MS in tests/support/browser.ts): pages are slow on a loaded CI machine
          expect: { poll: { timeout: 30_000, interval: 100 } },
        },
      },
    ],
  },
})
