// Conversation lists benchmark (run by hand; not a test): users with 10,000 and 100,000 conversations seeded
// straight into a fresh database, then the built server answers the sidebar's list and the admin lists under
// concurrent keep-alive clients.
//
//   node bench/lists.mjs [--seconds 5] [--concurrency 10] [--sqlite-only] [--pg-only] [--only <text>] [--keep]
//   node bench/lists.mjs --db <url> [--seconds 5] [--only <text>]    (reuse a database kept by --keep: no seeding, so
//                                       two builds (NUXT_OUTPUT_DIR) can be run alternately on the same data)
//
// --pool N starts the server with DATABASE_POOL_SIZE=N. On PostgreSQL the table also gives the database backends'
// CPU per request (they share the machine's cores with the server).
//
// --only runs just the lines whose name contains <text> (e.g. `--only admin/users?` for the users list, with
// BENCH_CPU_PROF=<dir> to profile that route alone); `a||b` runs the lines that contain either.
//
// Targets (issue #12): GET /api/conversations?limit=50 ≥ 1,000 req/s at c=10 with p99 < 20 ms at 10k
// conversations; p95 < 50 ms at 100k; the same for the admin lists. /api/auth/me is measured as the floor every
// route pays (session and framework).
import { uuidv7 } from 'uuidv7'
import { bulkWriter, createDatabase, HEADER, load, loadText, login, pgReachable, requireBuild, row, startServer } from './load-support.mjs'
import { benchArgs } from './args.mjs'

const { values: args } = benchArgs({
  options: {
    'seconds': { type: 'string', default: '5' },
    'concurrency': { type: 'string', default: '10' },
    'sqlite-only': { type: 'boolean', default: false },
    'pg-only': { type: 'boolean', default: false },
    'only': { type: 'string' },
    'keep': { type: 'boolean', default: false },
    'db': { type: 'string' },
    'pool': { type: 'string' },
  },
})
const SECONDS = Number(args.seconds)
const C = Number(args.concurrency)
const SIZES = [10_000, 100_000]
requireBuild()

function* conversationsOf(userId, n) {
  const now = Date.now()
  for (let i = 0; i < n; i++) {
    const at = new Date(now - (n - i) * 30_000)
    yield { id: uuidv7(), user_id: userId, title: `Conversación ${i}`, model: 'qwen2.5:3b-instruct', pinned: i % 997 === 0, archived: i % 53 === 0, message_count: 2 + (i % 30), created_at: at, updated_at: at }
  }
}

async function seed(url) {
  const db = await bulkWriter(url)
  const users = SIZES.map((n, i) => ({ id: uuidv7(), email: `lists-${i}@bench.local`, password_hash: db.demoPasswordHash, full_name: `Persona ${n}`, role: 'worker', active: true, created_at: new Date(), must_change_password: false }))
  await db.insert('users', users)
  for (const [i, n] of SIZES.entries()) await db.insert('conversations', conversationsOf(users[i].id, n))
  await db.finish()
  return users
}

/** The users `seed` made, in its order (for --db). */
async function seededUsers(url) {
  const db = await bulkWriter(url)
  const found = await db.query(`select id, email from users where email like 'lists-%@bench.local' order by email`)
  await db.close()
  return found.map(r => ({ id: r.id, email: r.email }))
}

/** The cursors of the first `pages` pages, to spread cursor requests over the list. */
async function cursors(url, cookie, base, pages) {
  const found = []
  let cursor = null
  for (let i = 0; i < pages; i++) {
    const body = await (await fetch(`${url}${base}${cursor ? `&cursor=${cursor}` : ''}`, { headers: { cookie } })).json()
    if (!body.nextCursor) break
    found.push(cursor = body.nextCursor)
  }
  return found
}

async function benchOne(kind) {
  const db = args.db ? { url: args.db, drop: async () => {} } : await createDatabase(kind)
  const server = await startServer(db.url, args.pool ? { DATABASE_POOL_SIZE: args.pool } : {})
  try {
    const t0 = performance.now()
    const users = args.db ? await seededUsers(db.url) : await seed(db.url)
    const seedMs = performance.now() - t0
    if (args.keep) console.log(`kept database (reuse with --db): ${db.url}`)
    const admin = await login(server.url, 'admin@example.com')
    const opts = { concurrency: C, seconds: SECONDS, pid: server.pid, databaseUrl: db.url }
    const results = {}
    const measure = async (name, cookie, path) => {
      if (!args.only || args.only.split('||').some(part => name.includes(part))) results[name] = await load(server.url, cookie, path, opts)
    }
    await measure('GET /api/auth/me (floor)', admin, () => '/api/auth/me')
    for (const [i, n] of SIZES.entries()) {
      const cookie = await login(server.url, users[i].email)
      const pages = await cursors(server.url, cookie, '/api/conversations?limit=50', 40)
      const adminPages = await cursors(server.url, admin, `/api/admin/users/${users[i].id}/conversations?limit=50`, 40)
      await measure(`GET /api/conversations?limit=50 (${n})`, cookie, () => '/api/conversations?limit=50')
      await measure(`GET /api/conversations?limit=50&cursor=… (${n}, first 40 pages)`, cookie, j => `/api/conversations?limit=50&cursor=${pages[j % pages.length]}`)
      await measure(`GET /api/conversations?limit=50&offset=… (${n}, first 40 pages)`, cookie, j => `/api/conversations?limit=50&offset=${50 * (1 + (j % 40))}`)
      await measure(`GET /api/conversations?limit=50&archived=false (${n})`, cookie, () => '/api/conversations?limit=50&archived=false')
      await measure(`admin: GET /api/admin/users/:id/conversations?limit=50 (${n})`, admin, () => `/api/admin/users/${users[i].id}/conversations?limit=50`)
      await measure(`admin: GET /api/admin/users/:id/conversations?cursor=… (${n})`, admin, j => `/api/admin/users/${users[i].id}/conversations?limit=50&cursor=${adminPages[j % adminPages.length]}`)
    }
    await measure('admin: GET /api/admin/users?limit=50', admin, () => '/api/admin/users?limit=50')
    return { seedMs, results }
  }
  finally {
    await server.stop()
    if (!args.keep) await db.drop()
  }
}

const kinds = args.db ? [args.db.startsWith('postgres') ? 'pg' : 'sqlite'] : args['pg-only'] ? [] : ['sqlite']
if (!args.db && !args['sqlite-only'] && await pgReachable()) kinds.push('pg')
console.log(`lists bench: users with ${SIZES.join(' and ')} conversations; ${C} keep-alive clients for ${SECONDS} s per line`)
for (const kind of kinds) {
  const { seedMs, results } = await benchOne(kind)
  console.log(`\n${kind} (${args.db ? 'kept database' : `seeded in ${(seedMs / 1000).toFixed(1)} s`}; ${loadText()})`)
  console.log(HEADER)
  for (const [name, r] of Object.entries(results)) console.log(row(name, r))
}
