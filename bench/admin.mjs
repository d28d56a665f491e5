// Admin list benchmark (run by hand; not a test): 1,000 users and 100,000 conversations seeded with batched SQL
// into a fresh database, then the built server answers the admin panel's two list calls.
//
//   node bench/admin.mjs [--requests 300] [--sqlite-only] [--messages 2] [--keep (leave the databases for EXPLAIN)]
//
// Uses the build in $NUXT_OUTPUT_DIR (default .output; run `npm run build` first). PostgreSQL is used too when
// TEST_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres) answers. Target: p95 < 50 ms.
import { createClient } from '@libsql/client'
import postgres from 'postgres'
import { uuidv7 } from 'uuidv7'
import { chunks, freshDatabase, login, machine, measure as measureRequests, pgReachable, printTable, requireBuild, startServer } from './support.mjs'
import { benchArgs } from './args.mjs'

const { values: args } = benchArgs({
  options: {
    'requests': { type: 'string', default: '300' },
    'sqlite-only': { type: 'boolean', default: false },
    'messages': { type: 'string', default: '2' },
    'keep': { type: 'boolean', default: false },
  },
})
const REQUESTS = Number(args.requests)
const MESSAGES_PER_CONVERSATION = Number(args.messages)
const USERS = 1000
const SUPERVISORS = 20
const CONVERSATIONS = 100_000
// a few heavy users, like the 5,000-conversation sidebar the chat issue plans for
const HEAVY_USERS = 4
const HEAVY_CONVERSATIONS = 5000

requireBuild()

/** The seed rows: supervisors with teams of workers, conversations spread over them, a few heavy users. */
function seedRows(passwordHash) {
  const now = Date.now()
  const users = []
  const supervisors = []
  for (let i = 0; i < USERS; i++) {
    const role = i < SUPERVISORS ? 'supervisor' : 'worker'
    const id = uuidv7()
    if (role === 'supervisor') supervisors.push(id)
    users.push({
      id, email: `bench-${i}@bench.local`, password_hash: passwordHash, full_name: `Persona ${String(i).padStart(4, '0')}`,
      role, active: i % 50 !== 49, supervisor_id: role === 'worker' ? supervisors[i % SUPERVISORS] : null,
      totp_enabled: false, is_demo: false, created_at: new Date(now - 400 * 86_400_000 + i * 1000),
      last_active_at: i % 3 ? new Date(now - (i % 90) * 86_400_000) : null,
    })
  }
  const owners = users.map(u => u.id)
  const heavy = owners.slice(SUPERVISORS, SUPERVISORS + HEAVY_USERS)
  const conversations = []
  for (let i = 0; i < CONVERSATIONS; i++) {
    const userId = i < HEAVY_USERS * HEAVY_CONVERSATIONS ? heavy[i % HEAVY_USERS] : owners[i % owners.length]
    const at = new Date(now - (CONVERSATIONS - i) * 60_000)
    conversations.push({ id: uuidv7(), user_id: userId, title: `Conversación ${i}`, model: 'qwen2.5:3b-instruct', pinned: i % 97 === 0, archived: i % 53 === 0, created_at: at, updated_at: at })
  }
  return { users, conversations, heavy, supervisors }
}

function* messageRows(conversations) {
  for (const c of conversations) {
    for (let k = 0; k < MESSAGES_PER_CONVERSATION; k++) {
      const assistant = k % 2 === 1
      yield {
        id: uuidv7(), conversation_id: c.id, role: assistant ? 'assistant' : 'user', author_id: assistant ? null : c.user_id, content: assistant ? 'Respuesta de prueba.' : 'Pregunta de prueba',
        status: 'complete', model: assistant ? 'qwen2.5:3b-instruct' : null, prompt_tokens: assistant ? 120 : null,
        completion_tokens: assistant ? 80 : null, first_token_ms: assistant ? 200 + (k * 37) % 300 : null, duration_ms: assistant ? 2500 : null,
        created_at: new Date(c.created_at.getTime() + k * 1000),
      }
    }
  }
}


async function seedSqlite(url) {
  const client = createClient({ url })
  const [{ password_hash: hash }] = (await client.execute(`select password_hash from users where email = 'admin@example.com'`)).rows
  const rows = seedRows(hash)
  const value = v => v instanceof Date ? v.getTime() : typeof v === 'boolean' ? Number(v) : v
  const insert = async (table, list) => {
    const columns = Object.keys(list[0])
    for (const batch of chunks(list, Math.floor(30_000 / columns.length))) {
      const placeholders = batch.map(() => `(${columns.map(() => '?').join(',')})`).join(',')
      await client.execute({ sql: `insert into ${table} (${columns.join(',')}) values ${placeholders}`, args: batch.flatMap(r => columns.map(c => value(r[c]))) })
    }
  }
  await insert('users', rows.users)
  await insert('conversations', rows.conversations)
  if (MESSAGES_PER_CONVERSATION) await insert('messages', [...messageRows(rows.conversations)])
  client.close()
  return rows
}

async function seedPg(url) {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  const [{ password_hash: hash }] = await sql`select password_hash from users where email = 'admin@example.com'`
  const rows = seedRows(hash)
  const insert = async (table, list) => {
    for (const batch of chunks(list, Math.floor(60_000 / Object.keys(list[0]).length))) await sql`insert into ${sql(table)} ${sql(batch)}`
  }
  await insert('users', rows.users)
  await insert('conversations', rows.conversations)
  if (MESSAGES_PER_CONVERSATION) await insert('messages', [...messageRows(rows.conversations)])
  // autovacuum would have done this within a minute of such a load; without statistics the planner seq-scans
  await sql`vacuum analyze`
  await sql.end()
  return rows
}

const measure = (url, cookie, pathFor, requests = REQUESTS) => measureRequests(url, cookie, pathFor, requests)

async function benchOne(kind) {
  const { url, drop } = await freshDatabase(kind, 'energyapp_bench')
  const server = await startServer({ databaseUrl: url })
  try {
    const t0 = performance.now()
    const rows = kind === 'sqlite' ? await seedSqlite(url) : await seedPg(url)
    const seedMs = performance.now() - t0
    const adminCookie = await login(server.url, 'admin@example.com', 'admin123')
    // seeded users share the demo admin's password hash
    const supervisorCookie = await login(server.url, 'bench-0@bench.local', 'admin123')
    const team = rows.users.filter(u => u.supervisor_id === rows.supervisors[0]).map(u => u.id)
    const ids = rows.users.map(u => u.id)
    const results = {
      'admin: GET /api/admin/users?limit=50&offset=…': await measure(server.url, adminCookie, i => `/api/admin/users?limit=50&offset=${(i * 50) % USERS}`),
      'admin: GET /api/admin/users?q=…&role=worker': await measure(server.url, adminCookie, i => `/api/admin/users?q=persona%20${String(i % 100).padStart(2, '0')}&role=worker`),
      'admin: GET /api/admin/users/:id/conversations (random user)': await measure(server.url, adminCookie, i => `/api/admin/users/${ids[(i * 7919) % ids.length]}/conversations?limit=50`),
      [`admin: GET /api/admin/users/:id/conversations (${HEAVY_CONVERSATIONS}-conversation user, pages)`]: await measure(server.url, adminCookie, i => `/api/admin/users/${rows.heavy[i % HEAVY_USERS]}/conversations?limit=50&offset=${(i * 50) % HEAVY_CONVERSATIONS}`),
      'supervisor: GET /api/admin/users (team of ~49)': await measure(server.url, supervisorCookie, () => '/api/admin/users?limit=50'),
      'supervisor: GET /api/admin/users/:id/conversations (team member)': await measure(server.url, supervisorCookie, i => `/api/admin/users/${team[i % team.length]}/conversations?limit=50`),
      'admin: GET /api/admin/stats?days=30 (info, no target)': await measure(server.url, adminCookie, () => '/api/admin/stats?days=30', Math.min(REQUESTS, 50)),
    }
    return { kind, seedMs, results }
  }
  finally {
    await server.stop()
    if (args.keep) console.log(`kept ${kind} database: ${url}`)
    else await drop()
  }
}

const kinds = ['sqlite']
if (!args['sqlite-only'] && await pgReachable()) kinds.push('pg')
console.log(`admin bench: ${USERS} users (${SUPERVISORS} supervisors), ${CONVERSATIONS} conversations (${HEAVY_USERS} users with ${HEAVY_CONVERSATIONS}), ${MESSAGES_PER_CONVERSATION * CONVERSATIONS} messages; ${REQUESTS} sequential requests per line`)
for (const kind of kinds) {
  const { seedMs, results } = await benchOne(kind)
  console.log(`\n${kind} (seeded in ${(seedMs / 1000).toFixed(1)} s; ${machine()})`)
  printTable(results)
}
