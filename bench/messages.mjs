// Messages benchmark (run by hand; not a test): one person with 100,000 messages between people (sent and
// received, threads, some unread, some deleted from their view) seeded with batched SQL into a fresh database,
// then the built server answers the unread count and the thread list; finally 500 idle live-event streams.
//
//   node bench/messages.mjs [--requests 300] [--messages 100000] [--streams 500] [--sqlite-only] [--keep]
//
// Uses the build in $NUXT_OUTPUT_DIR (default .output). PostgreSQL is used too when TEST_PG_URL (default
// postgres://postgres@127.0.0.1:5432/postgres) answers. Targets: p95 < 20 ms; 500 streams < 100 MB extra RSS.
import { readFileSync } from 'node:fs'
import { createClient } from '@libsql/client'
import postgres from 'postgres'
import { uuidv7 } from 'uuidv7'
import { chunks, freshDatabase, login, machine, measure as measureRequests, pgReachable, printTable, requireBuild, startServer } from './support.mjs'
import { benchArgs } from './args.mjs'

const { values: args } = benchArgs({
  options: {
    'requests': { type: 'string', default: '300' },
    'messages': { type: 'string', default: '100000' },
    'streams': { type: 'string', default: '500' },
    'sqlite-only': { type: 'boolean', default: false },
    'keep': { type: 'boolean', default: false },
  },
})
const REQUESTS = Number(args.requests)
const MESSAGES = Number(args.messages)
const STREAMS = Number(args.streams)
const PEOPLE = 200

requireBuild()

/** The demo worker's mailbox: 60% received, 40% sent, threads of 5 with one of 200 people, 5% unread, 2% hidden (a few of them unread). */
function seedRows(meId, passwordHash) {
  const now = Date.now()
  const people = Array.from({ length: PEOPLE }, (_, i) => ({
    id: uuidv7(), email: `dm-bench-${i}@bench.local`, password_hash: passwordHash, full_name: `Persona ${String(i).padStart(3, '0')}`,
    role: 'worker', active: true, totp_enabled: false, is_demo: false, created_at: new Date(now - 400 * 86_400_000),
  }))
  const dms = []
  const hidden = []
  let threadId = null
  let parentId = null
  for (let i = 0; i < MESSAGES; i++) {
    const other = people[Math.floor(i / 5) % PEOPLE].id
    const received = i % 5 !== 1 && i % 5 !== 3
    const id = uuidv7()
    if (i % 5 === 0) { threadId = id; parentId = null }
    const createdAt = new Date(now - (MESSAGES - i) * 30_000)
    dms.push({
      id, sender_id: received ? other : meId, recipient_id: received ? meId : other, thread_id: threadId, parent_id: parentId,
      content: `Mensaje de prueba número ${i}`, read_at: received && i % 20 === 0 ? null : createdAt, edited_at: null, created_at: createdAt,
    })
    if (i % 50 === 7 || i % 1000 === 40) hidden.push({ id: uuidv7(), dm_id: id, user_id: meId, received, unread: received && dms.at(-1).read_at === null })
    parentId = id
  }
  return { people, dms, hidden }
}

async function seedSqlite(url) {
  const client = createClient({ url })
  const [{ id: meId, password_hash: hash }] = (await client.execute(`select id, password_hash from users where email = 'trabajador@example.com'`)).rows
  const rows = seedRows(meId, hash)
  const value = v => v instanceof Date ? v.getTime() : typeof v === 'boolean' ? Number(v) : v
  const insert = async (table, list) => {
    const columns = Object.keys(list[0])
    for (const batch of chunks(list, Math.floor(30_000 / columns.length))) {
      const placeholders = batch.map(() => `(${columns.map(() => '?').join(',')})`).join(',')
      await client.execute({ sql: `insert into ${table} (${columns.join(',')}) values ${placeholders}`, args: batch.flatMap(r => columns.map(c => value(r[c]))) })
    }
  }
  await insert('users', rows.people)
  await insert('dms', rows.dms)
  await insert('dm_hidden', rows.hidden)
  await client.execute('analyze')
  client.close()
  return { meId, ...rows }
}

async function seedPg(url) {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  const [{ id: meId, password_hash: hash }] = await sql`select id, password_hash from users where email = 'trabajador@example.com'`
  const rows = seedRows(meId, hash)
  const insert = async (table, list) => {
    for (const batch of chunks(list, Math.floor(60_000 / Object.keys(list[0]).length))) await sql`insert into ${sql(table)} ${sql(batch)}`
  }
  await insert('users', rows.people)
  await insert('dms', rows.dms)
  await insert('dm_hidden', rows.hidden)
  // autovacuum would have done this within a minute of such a load
  await sql`vacuum analyze`
  await sql.end()
  return { meId, ...rows }
}

const measure = (url, cookie, pathFor, requests = REQUESTS) => measureRequests(url, cookie, pathFor, requests)

const rssMb = pid => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024

/** Opens `n` idle event streams as one user; returns the server's extra RSS once they are all open. */
async function idleStreams(server, cookie, n) {
  global.gc?.()
  await new Promise(r => setTimeout(r, 500))
  const before = rssMb(server.pid)
  const controllers = []
  let open = 0
  for (const batch of chunks(Array.from({ length: n }), 50)) {
    await Promise.all(batch.map(async () => {
      const controller = new AbortController()
      controllers.push(controller)
      const res = await fetch(`${server.url}/api/events`, { headers: { cookie }, signal: controller.signal })
      const reader = res.body.getReader()
      await reader.read() // the first `unread` event
      open++
    }))
  }
  await new Promise(r => setTimeout(r, 2000))
  const after = rssMb(server.pid)
  for (const c of controllers) c.abort()
  return { open, before, after }
}

async function benchOne(kind) {
  const { url, drop } = await freshDatabase(kind, 'energyapp_bench_dms')
  const server = await startServer({ databaseUrl: url })
  try {
    const t0 = performance.now()
    const rows = kind === 'sqlite' ? await seedSqlite(url) : await seedPg(url)
    const seedMs = performance.now() - t0
    const cookie = await login(server.url, 'trabajador@example.com', 'worker123')
    const people = rows.people.map(p => p.id)
    const hiddenIds = new Set(rows.hidden.map(h => h.dm_id))
    const threads = rows.dms.filter(d => d.parent_id === null && !hiddenIds.has(d.id)).map(d => d.id)
    // the cursors a client walking the list 100 at a time sends (every 100th visible message, newest first)
    const cursors = rows.dms.filter(d => !hiddenIds.has(d.id)).reverse().filter((_, i) => i % 100 === 99).slice(0, 20).map(d => d.id)
    const results = {
      'GET /api/messages/unread-count': await measure(server.url, cookie, () => '/api/messages/unread-count'),
      'GET /api/messages?limit=50 (newest page)': await measure(server.url, cookie, () => '/api/messages?limit=50'),
      'GET /api/messages?limit=50&offset=… (first 20 pages)': await measure(server.url, cookie, i => `/api/messages?limit=50&offset=${(i % 20) * 50}`),
      'GET /api/messages?box=received&limit=50': await measure(server.url, cookie, () => '/api/messages?box=received&limit=50'),
      'GET /api/messages?box=sent&limit=50': await measure(server.url, cookie, () => '/api/messages?box=sent&limit=50'),
      'GET /api/messages?limit=100&before=… (the app\'s "cargar más", pages 2–21)': await measure(server.url, cookie, i => `/api/messages?limit=100&before=${cursors[i % cursors.length]}`),
      'GET /api/messages?box=received&unread=true': await measure(server.url, cookie, () => '/api/messages?box=received&unread=true&limit=50'),
      'GET /api/messages?with=… (one correspondent)': await measure(server.url, cookie, i => `/api/messages?with=${people[(i * 7) % people.length]}&limit=50`),
      'GET /api/messages/:id': await measure(server.url, cookie, i => `/api/messages/${threads[(i * 7919) % threads.length]}`),
    }
    const streams = STREAMS ? await idleStreams(server, cookie, STREAMS) : null
    return { kind, seedMs, results, streams }
  }
  finally {
    await server.stop()
    if (args.keep) console.log(`kept ${kind} database: ${url}`)
    else await drop()
  }
}

const kinds = ['sqlite']
if (!args['sqlite-only'] && await pgReachable()) kinds.push('pg')
console.log(`messages bench: one user with ${MESSAGES} messages (${PEOPLE} correspondents); ${REQUESTS} sequential requests per line`)
for (const kind of kinds) {
  const { seedMs, results, streams } = await benchOne(kind)
  console.log(`\n${kind} (seeded in ${(seedMs / 1000).toFixed(1)} s; ${machine()})`)
  printTable(results)
  if (streams) console.log(`\n${streams.open} idle /api/events streams: server RSS ${streams.before.toFixed(0)} MB → ${streams.after.toFixed(0)} MB (+${(streams.after - streams.before).toFixed(1)} MB)`)
}
