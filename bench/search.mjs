// Full-text search and admin stats benchmark (run by hand; not a test): 1,000,000 messages (100,000
// conversations of 10 messages, 200 users, spread over the last 30 days) seeded straight into a fresh database —
// through the migration's triggers, so the FTS index / tsvector and the stats rollups are built as on write —
// then the built server answers one user's searches and the admin stats.
//
//   node bench/search.mjs [--messages 1000000] [--teams 4] [--seconds 5] [--sqlite-only] [--pg-only] [--keep]
//   node bench/search.mjs --db <url> [--seconds 5] [--only <text>]    (reuse a database kept by --keep: no seeding; the server
//                                                      migrates it first, so a new migration's backfill runs on it)
//
// --only runs just the lines whose name contains <text> (e.g. `--only stats` for the two stats lines).
// --teams N seeds N supervisors with 49 workers each (default 4: 200 users). A smaller seed that keeps the
// supervisor's slice of the 1M case (49 members × 30 days × ~85 answers each per day, so ~75 distinct latencies
// per person-day) and one user's search size: `--teams 1 --messages 250000` (1M × 1/4).
//
// Targets (issue #12): search p95 < 50 ms over 1M messages for one user's search; admin stats < 50 ms at 1M.
import { uuidv7 } from 'uuidv7'
import { bulkWriter, createDatabase, HEADER, load, loadText, login, pgReachable, requireBuild, row, startServer } from './load-support.mjs'
import { benchArgs } from './args.mjs'

const { values: args } = benchArgs({
  options: {
    'messages': { type: 'string', default: '1000000' },
    'seconds': { type: 'string', default: '5' },
    'sqlite-only': { type: 'boolean', default: false },
    'pg-only': { type: 'boolean', default: false },
    'keep': { type: 'boolean', default: false },
    'db': { type: 'string' },
    'teams': { type: 'string', default: '4' },
    'only': { type: 'string' },
  },
})
const MESSAGES = Number(args.messages)
const SECONDS = Number(args.seconds)
const PER_CONVERSATION = 10
const TEAMS = Number(args.teams)
const USERS = TEAMS * 50
const DAYS = 30
requireBuild()

// a deterministic pseudo-Spanish vocabulary: 3,000 made-up words, Zipf-like use, plus a few real words planted
// at known rates so that searches of rare, medium and common words can be compared
// mulberry32: small and evenly spread (a plain LCG never planted the rarest word)
let seed = 42
function random() {
  seed = (seed + 0x6D2B79F5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
}
const SYLLABLES = ['ma', 'ne', 'ri', 'to', 'ca', 'lo', 'pe', 'su', 'dra', 'ción', 'gía', 'tri', 'ven', 'bar', 'qui', 'len', 'so', 'mó']
const VOCABULARY = Array.from({ length: 3000 }, () => Array.from({ length: 2 + Math.floor(random() * 3) }, () => SYLLABLES[Math.floor(random() * SYLLABLES.length)]).join(''))
const word = () => VOCABULARY[Math.floor(VOCABULARY.length * random() ** 3)]
const PLANTED = [['copiapó', 0.001], ['mantención', 0.01], ['energía', 0.1]]
function sentence() {
  const words = Array.from({ length: 12 + Math.floor(random() * 20) }, word)
  for (const [planted, rate] of PLANTED) if (random() < rate) words[Math.floor(random() * words.length)] = planted
  return words.join(' ')
}

async function seed1M(url) {
  const db = await bulkWriter(url)
  const now = Date.now()
  const users = Array.from({ length: USERS }, (_, i) => ({
    id: uuidv7(), email: `search-${i}@bench.local`, password_hash: db.demoPasswordHash, full_name: `Persona ${i}`,
    role: i < TEAMS ? 'supervisor' : 'worker', supervisor_id: null, active: true, created_at: new Date(now - 400 * 86_400_000), must_change_password: false,
  }))
  for (const [i, u] of users.entries()) if (i >= TEAMS) u.supervisor_id = users[i % TEAMS].id
  await db.insert('users', users)
  const conversationCount = Math.ceil(MESSAGES / PER_CONVERSATION)
  const conversations = Array.from({ length: conversationCount }, (_, i) => {
    const at = new Date(now - Math.floor((DAYS * 86_400_000 * (conversationCount - i)) / conversationCount))
    return { id: uuidv7(), user_id: users[TEAMS + (i % (USERS - TEAMS))].id, title: `Conversación ${i}`, model: 'qwen2.5:3b-instruct', pinned: false, archived: false, created_at: at, updated_at: at }
  })
  await db.insert('conversations', conversations)
  function* messages() {
    for (const c of conversations) {
      for (let k = 0; k < PER_CONVERSATION; k++) {
        const assistant = k % 2 === 1
        yield {
          id: uuidv7(), conversation_id: c.id, role: assistant ? 'assistant' : 'user', author_id: assistant ? null : c.user_id, content: sentence(), status: 'complete',
          model: assistant ? 'qwen2.5:3b-instruct' : null, prompt_tokens: assistant ? 100 + k : null, completion_tokens: assistant ? 80 : null,
          first_token_ms: assistant ? 150 + Math.floor(random() * 400) : null, duration_ms: assistant ? 2500 : null,
          created_at: new Date(c.created_at.getTime() + k * 1000),
        }
      }
    }
  }
  await db.insert('messages', messages())
  await db.finish()
  return users
}

/** The seeded users of a kept database, in seeding order (`search-<i>@bench.local`). */
async function seededUsers(url) {
  const db = await bulkWriter(url)
  const found = await db.query(`select email from users where email like 'search-%@bench.local'`)
  await db.close()
  return found.map(r => ({ email: r.email, i: Number(/search-(\d+)@/.exec(r.email)[1]) })).sort((a, b) => a.i - b.i)
}

async function benchOne(kind) {
  const db = args.db ? { url: args.db, drop: async () => {} } : await createDatabase(kind)
  // a kept database may first get a new migration (an index rebuilt over 1M messages takes minutes): the start
  // time is reported, so a migration's backfill is measured too
  const started = performance.now()
  const server = await startServer(db.url, {}, { startTimeoutMs: args.db ? 30 * 60_000 : 60_000 })
  const startMs = performance.now() - started
  try {
    const t0 = performance.now()
    const users = args.db ? await seededUsers(db.url) : await seed1M(db.url)
    const seedMs = performance.now() - t0
    if (args.keep) console.log(`kept database (reuse with --db): ${db.url}`)
    const searcher = users[10]
    const cookie = await login(server.url, searcher.email)
    const admin = await login(server.url, 'admin@example.com')
    const supervisor = await login(server.url, users[0].email)
    const results = {}
    const measure = async (name, cookie, pathFor, opts) => {
      if (!args.only || name.includes(args.only)) results[name] = await load(server.url, cookie, pathFor, { seconds: SECONDS, pid: server.pid, ...opts })
    }
    const queries = ['copiapo', 'mantencion', 'energia', 'energía mantención', VOCABULARY[0], VOCABULARY[0].slice(0, 3), 'conversación 12']
    for (const q of queries) {
      if (args.only && !`search "${q}"`.includes(args.only)) continue
      const { total } = await (await fetch(`${server.url}/api/conversations?limit=50&q=${encodeURIComponent(q)}`, { headers: { cookie } })).json()
      await measure(`search "${q}" (${total} of the user's conversations)`, cookie, () => `/api/conversations?limit=50&q=${encodeURIComponent(q)}`, { concurrency: 1 })
    }
    await measure('search "energia", 10 clients', cookie, () => '/api/conversations?limit=50&q=energia', { concurrency: 10 })
    await measure('admin: GET /api/admin/stats?days=30', admin, () => '/api/admin/stats?days=30', { concurrency: 1 })
    await measure(`supervisor (team of ${USERS / TEAMS - 1}): GET /api/admin/stats?days=30`, supervisor, () => '/api/admin/stats?days=30', { concurrency: 1 })
    return { seedMs, startMs, results }
  }
  finally {
    await server.stop()
    if (!args.keep) await db.drop()
  }
}

const kinds = args.db ? [args.db.startsWith('postgres') ? 'pg' : 'sqlite'] : args['pg-only'] ? [] : ['sqlite']
if (!args.db && !args['sqlite-only'] && await pgReachable()) kinds.push('pg')
console.log(`search bench: ${MESSAGES} messages in ${Math.ceil(MESSAGES / PER_CONVERSATION)} conversations of ${USERS} users over ${DAYS} days; searches by one user (~${Math.round(MESSAGES / (USERS - TEAMS))} messages), ${SECONDS} s per line`)
for (const kind of kinds) {
  const { seedMs, startMs, results } = await benchOne(kind)
  console.log(`\n${kind} (${args.db ? 'kept database' : `seeded through the triggers in ${(seedMs / 1000).toFixed(0)} s`}; server start with migrations ${(startMs / 1000).toFixed(1)} s; ${loadText()})`)
  console.log(HEADER)
  for (const [name, r] of Object.entries(results)) console.log(row(name, r))
}
