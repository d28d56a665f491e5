import { createClient } from '@libsql/client'
import postgres from 'postgres'
import { uuidv7 } from 'uuidv7'
import { inject } from 'vitest'
import { Client, DEMO, GOOD_PASSWORD, uniqueEmail } from '../support/http'

/**
 * Helpers for the admin API tests: users made through the admin API, and conversations/messages written straight
 * into the test database (the same one the server uses) so that the admin tests do not depend on the chat routes.
 */

type Row = Record<string, unknown>
let pg: ReturnType<typeof postgres> | undefined
let lib: ReturnType<typeof createClient> | undefined

const isPg = () => /^postgres(ql)?:\/\//.test(inject('databaseUrl'))

/** Runs one statement with `?` placeholders on the server's database (or, once, on the database at `url`). */
export async function sqlRun<T = Row>(text: string, params: unknown[] = [], url?: string): Promise<T[]> {
  if (url) return sqlOnce<T>(url, text, params)
  if (isPg()) {
    pg ??= postgres(inject('databaseUrl'), { max: 2, onnotice: () => {} })
    let n = 0
    return await pg.unsafe(text.replace(/\?/g, () => `$${++n}`), params as never[]) as unknown as T[]
  }
  // waits (like the app's own client) for the server's write lock instead of failing with SQLITE_BUSY at once
  lib ??= createClient({ url: inject('databaseUrl'), timeout: 5000 })
  const args = params.map(p => typeof p === 'boolean' ? Number(p) : p instanceof Date ? p.getTime() : p) as Array<string | number | null>
  const result = await lib.execute({ sql: text, args })
  return result.rows.map(row => Object.fromEntries(result.columns.map(c => [c, row[c]]))) as T[]
}

async function sqlOnce<T>(url: string, text: string, params: unknown[]): Promise<T[]> {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const client = postgres(url, { max: 1, onnotice: () => {} })
    let n = 0
    try { return await client.unsafe(text.replace(/\?/g, () => `$${++n}`), params as never[]) as unknown as T[] }
    finally { await client.end({ timeout: 5 }) }
  }
  const client = createClient({ url, timeout: 5000 })
  try {
    const result = await client.execute({ sql: text, args: params.map(p => typeof p === 'boolean' ? Number(p) : p) as never })
    return result.rows.map(row => Object.fromEntries(result.columns.map(c => [c, row[c]]))) as T[]
  }
  finally { client.close() }
}

/**
 * Closes the clients `sqlRun` opened. Called after every API and e2e test file (tests/support/file-hooks.ts): an API
 * project's files share one worker process, where this module is evaluated once, so a hook registered here would only
 * run after the first.
 */
export async function closeSqlClients() {
  await pg?.end({ timeout: 5 })
  lib?.close()
  pg = undefined
  lib = undefined
}

export const truthy = (value: unknown) => value === true || value === 1 || value === '1'

export async function signedIn(account: { email: string, password: string }) {
  const client = new Client()
  await client.login(account.email, account.password)
  return client
}

/** A signed-in client for the demo admin. */
export const demoAdmin = () => signedIn(DEMO.admin)

export interface TestUser { id: string, email: string, password: string, role: string, supervisorId: string | null, client: Client }

/** Creates a user through POST /api/admin/users (as `admin`) and signs them in. */
export async function makeUser(admin: Client, role: 'admin' | 'supervisor' | 'worker', supervisorId: string | null = null, prefix: string = role): Promise<TestUser> {
  const email = uniqueEmail(prefix)
  // a chosen password, not a temporary one: the tests act as the user straight away (the hold is tested in account.test.ts)
  const res = await admin.post('/api/admin/users', { email, fullName: `Prueba ${prefix}`, role, password: GOOD_PASSWORD, supervisorId, mustChangePassword: false })
  if (res.status !== 201) throw new Error(`create ${role} → ${res.status} ${res.text}`)
  const client = await signedIn({ email, password: GOOD_PASSWORD })
  return { id: res.body.user.id, email, password: GOOD_PASSWORD, role, supervisorId, client }
}

/** A team: a supervisor with `workers` workers, everyone signed in. */
export async function makeTeam(admin: Client, workers = 1) {
  const supervisor = await makeUser(admin, 'supervisor')
  const members: TestUser[] = []
  for (let i = 0; i < workers; i++) members.push(await makeUser(admin, 'worker', supervisor.id))
  return { supervisor, workers: members }
}

interface SeedMessage { role: 'user' | 'assistant', content: string, at?: Date, promptTokens?: number, completionTokens?: number, firstTokenMs?: number }

/** Writes a conversation (and its messages) straight into the database; returns its id. */
export async function insertConversation(userId: string, opts: { title?: string, messages?: SeedMessage[], at?: Date } = {}) {
  const id = uuidv7()
  const at = opts.at ?? new Date()
  await sqlRun('insert into conversations (id, user_id, title, model, pinned, archived, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)',
    [id, userId, opts.title ?? 'Conversación de prueba', 'qwen2.5:3b-instruct', false, false, at, at])
  let t = at.getTime()
  for (const m of opts.messages ?? []) {
    await sqlRun('insert into messages (id, conversation_id, role, author_id, content, status, model, prompt_tokens, completion_tokens, first_token_ms, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [uuidv7(), id, m.role, m.role === 'user' ? userId : null, m.content, 'complete', m.role === 'assistant' ? 'qwen2.5:3b-instruct' : null, m.promptTokens ?? null, m.completionTokens ?? null, m.firstTokenMs ?? null, m.at ?? new Date(++t)])
  }
  return id
}

export const conversationOwner = async (id: string) =>
  (await sqlRun<{ user_id: string }>('select user_id from conversations where id = ?', [id]))[0]?.user_id

export const auditCount = async (action: string, targetId: string) =>
  Number((await sqlRun<{ n: number | string }>('select count(*) as n from audit_events where action = ? and target_id = ?', [action, targetId]))[0]!.n)

export { GOOD_PASSWORD }

/**
 * A server of the test's own on a fresh database, for changes that would disturb tests running in parallel on the
 * shared one (the default system prompt, model settings, the set of admins).
 */
export async function ownServer(env: Record<string, string> = {}) {
  const { createTestDatabase, startServer } = await import('../support/server')
  const db = await createTestDatabase(inject('dbKind'))
  const server = await startServer({ DATABASE_URL: db.url, ...env })
  return {
    url: server.url,
    dbUrl: db.url,
    stop: async () => { await server.stop(); await db.drop() },
  }
}
