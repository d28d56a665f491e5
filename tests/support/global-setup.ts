import type { TestProject } from 'vitest/node'
import { createTestDatabase, startServer } from './server'
import { createTemplate, templatesEnabled } from './template'

declare module 'vitest' {
  export interface ProvidedContext { baseUrl: string, databaseUrl: string, dbKind: 'sqlite' | 'pg' }
}

/**
 * Per project (`TEST_DB=sqlite|pg`): the migrated template the test files' databases are copied from
 * (tests/support/template.ts), and one built server on a copy of it that most API tests share.
 */
export default async function setup(project: TestProject) {
  const kind = (project.config.env?.TEST_DB ?? process.env.TEST_DB ?? 'sqlite') as 'sqlite' | 'pg'
  const template = templatesEnabled() ? await createTemplate(kind) : undefined
  const db = await createTestDatabase(kind)
  const server = await startServer({ DATABASE_URL: db.url })
  project.provide('dbTemplate', template?.template ?? null)
  project.provide('baseUrl', server.url)
  project.provide('databaseUrl', db.url)
  project.provide('dbKind', kind)
  return async () => {
    await server.stop()
    await db.drop()
    await template?.drop()
  }
}
