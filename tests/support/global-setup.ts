import type { TestProject } from 'vitest/node'
import { createTestDatabase, type RunningServer, startServer, type TestDatabase } from './server'

declare module 'vitest' {
  export interface ProvidedContext { baseUrl: string, databaseUrl: string, dbKind: 'sqlite' | 'pg' }
}

/** One built server per API project, on its own fresh database (`TEST_DB=sqlite|pg`). */
export default async function setup(project: TestProject) {
  const kind = (project.config.env?.TEST_DB ?? process.env.TEST_DB ?? 'sqlite') as 'sqlite' | 'pg'
  let db: TestDatabase | undefined
  let server: RunningServer | undefined
  db = await createTestDatabase(kind)
  server = await startServer({ DATABASE_URL: db.url })
  project.provide('baseUrl', server.url)
  project.provide('databaseUrl', db.url)
  project.provide('dbKind', kind)
  return async () => {
    await server?.stop()
    await db?.drop()
  }
}
