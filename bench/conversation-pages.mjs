// Conversation pages benchmark (run by hand; not a test): the demo worker's conversation of 2,000 exchanges, every
// fifth answer after one or two assistant tool calls (saved as `tool` rows), seeded with batched SQL into a fresh
// database; then the built server answers `GET /api/conversations/:id/messages` as the chat asks for it: the newest
// page, and the older pages by `before`. Each answer on a page carries its tool calls (`message.tools`, one more
// indexed read per page); `includeTools=true` lists the rows instead and reads nothing more, and a conversation
// without tool calls shows what that read costs when there is nothing to find.
//
//   node bench/conversation-pages.mjs [--requests 300] [--exchanges 2000] [--sqlite-only] [--keep]
//
// Uses the build in $NUXT_OUTPUT_DIR (default .output). PostgreSQL is used too when TEST_PG_URL answers.
import { uuidv7 } from 'uuidv7'
import { benchArgs } from './args.mjs'
import { freshDatabase, login, machine, measure, pgReachable, printTable, requireBuild, seeder, startServer } from './support.mjs'

const { values: args } = benchArgs({
  options: {
    'requests': { type: 'string', default: '300' },
    'exchanges': { type: 'string', default: '2000' },
    'sqlite-only': { type: 'boolean', default: false },
    'keep': { type: 'boolean', default: false },
  },
})
const REQUESTS = Number(args.requests)
const EXCHANGES = Number(args.exchanges)

requireBuild()

/** Two conversations of `EXCHANGES` question-and-answer pairs: one with tool calls before every fifth answer, one without. */
function seedRows(userId) {
  const now = Date.now()
  const conversations = []
  const messages = []
  for (const withTools of [true, false]) {
    const id = uuidv7()
    const start = now - EXCHANGES * 60_000 - (withTools ? 86_400_000 : 0)
    conversations.push({
      id, user_id: userId, title: withTools ? 'Con herramientas' : 'Sin herramientas', model: 'qwen2.5:3b-instruct', system_prompt_id: null,
      pinned: false, archived: false, channel: 'web', access_seen_at: null, message_count: 0, created_at: new Date(start), updated_at: new Date(now),
    })
    const row = (role, content, at, extra = {}) => ({
      id: uuidv7(), conversation_id: id, role, author_id: null, content, status: 'complete', model: role === 'user' ? null : 'qwen2.5:3b-instruct',
      prompt_tokens: null, completion_tokens: null, first_token_ms: null, duration_ms: null, created_at: new Date(at), ...extra,
    })
    for (let i = 0; i < EXCHANGES; i++) {
      const at = start + i * 60_000
      messages.push(row('user', `Pregunta número ${i} sobre el turno de la subestación`, at))
      if (withTools && i % 5 === 0) {
        messages.push(row('tool', JSON.stringify({ round: 0, name: 'list_my_reports', arguments: {}, result: { total: 1, reports: [{ id: uuidv7(), title: 'Fuga', status: 'open' }] } }), at + 1_000))
        if (i % 10 === 0) messages.push(row('tool', JSON.stringify({ round: 1, name: 'get_report', arguments: { id: uuidv7() }, result: { error: 'not found' } }), at + 2_000, { status: 'error' }))
      }
      messages.push(row('assistant', `Respuesta número ${i}: revisa el procedimiento y registra la lectura del medidor.`, at + 5_000))
    }
  }
  return { conversations, messages }
}

/** The rows, written after the server has migrated the database and seeded the demo accounts. */
async function seed(kind, url) {
  const db = await seeder(kind, url)
  const { id: userId } = await db.one(`select id from users where email = 'trabajador@example.com'`)
  const rows = seedRows(userId)
  await db.insert('conversations', rows.conversations)
  await db.insert('messages', rows.messages)
  await db.done()
  return rows
}

async function benchOne(kind) {
  const { url, drop } = await freshDatabase(kind, 'energyapp_bench_pages')
  // the server migrates the fresh database (and seeds the demo accounts) before the rows go in
  const server = await startServer({ databaseUrl: url })
  try {
    const rows = await seed(kind, url)
    const cookie = await login(server.url, 'trabajador@example.com', 'worker123')
    const [withTools, without] = rows.conversations.map(c => c.id)
    // the cursors the chat sends walking back 50 at a time (every 50th message that is not a tool call, newest first)
    const cursors = id => rows.messages.filter(m => m.conversation_id === id && m.role !== 'tool').reverse().filter((_, i) => i % 50 === 49).slice(0, 20).map(m => m.id)
    const back = { [withTools]: cursors(withTools), [without]: cursors(without) }
    const check = await (await fetch(`${server.url}/api/conversations/${withTools}/messages?limit=50`, { headers: { cookie } })).json()
    const answersWithTools = check.data.filter(m => m.tools).length
    // 0 on a build from before `message.tools` (an A/B against an older build)
    const results = {
      'newest page (50), answers carry their tools': await measure(server.url, cookie, () => `/api/conversations/${withTools}/messages?limit=50`, REQUESTS),
      'older pages by `before` (pages 2–21), with tools': await measure(server.url, cookie, i => `/api/conversations/${withTools}/messages?limit=50&before=${back[withTools][i % back[withTools].length]}`, REQUESTS),
      'newest page, `includeTools=true` (rows listed, no extra read)': await measure(server.url, cookie, () => `/api/conversations/${withTools}/messages?limit=50&includeTools=true`, REQUESTS),
      'newest page of a conversation without tool calls': await measure(server.url, cookie, () => `/api/conversations/${without}/messages?limit=50`, REQUESTS),
      'older pages by `before`, without tool calls': await measure(server.url, cookie, i => `/api/conversations/${without}/messages?limit=50&before=${back[without][i % back[without].length]}`, REQUESTS),
    }
    return { results, answersWithTools }
  }
  finally {
    await server.stop()
    if (args.keep) console.log(`kept ${kind} database: ${url}`)
    else await drop()
  }
}

const kinds = ['sqlite']
if (!args['sqlite-only'] && await pgReachable()) kinds.push('pg')
console.log(`conversation pages bench: ${EXCHANGES} exchanges per conversation; ${REQUESTS} sequential requests per line`)
for (const kind of kinds) {
  const { results, answersWithTools } = await benchOne(kind)
  console.log(`\n${kind} (${machine()}; ${answersWithTools} of the newest page's answers carry tools)`)
  printTable(results)
}
