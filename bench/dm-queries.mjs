// The messages list's count queries before and after dm_hidden's flags (migration 0004), timed in-process on a
// database kept by `node bench/messages.mjs --keep --sqlite-only`, interleaved so both see the same machine load:
//
//   node bench/dm-queries.mjs file:/tmp/energyapp-bench-XXXX/bench.db [--runs 200]
import { createClient } from '@libsql/client'
import { machine, pct } from './support.mjs'
import { benchArgs } from './args.mjs'

const { values: args, positionals: [url] } = benchArgs({ allowPositionals: true, options: { runs: { type: 'string', default: '200' } } })
if (!url) { console.error('usage: node bench/dm-queries.mjs file:…/bench.db [--runs N]'); process.exit(1) }
const c = createClient({ url })
const me = (await c.execute(`select id from users where email = 'trabajador@example.com'`)).rows[0].id
const count = async (sql, params) => Number((await c.execute({ sql, args: params })).rows[0][0])

const variants = {
  'unread count, before: unread − every hidden row joined': () => Promise.all([
    count('select count(*) from dms where recipient_id = ? and read_at is null', [me]),
    count('select count(*) from dm_hidden where user_id = ? and exists (select 1 from dms where recipient_id = ? and read_at is null and dms.id = dm_hidden.dm_id)', [me, me]),
  ]),
  'unread count, after: unread − flagged unread hidden rows': () => Promise.all([
    count('select count(*) from dms where recipient_id = ? and read_at is null', [me]),
    count('select count(*) from dm_hidden where user_id = ? and received = 1 and unread = 1 and exists (select 1 from dms where read_at is null and dms.id = dm_hidden.dm_id)', [me]),
  ]),
  'received total, before: received − every hidden row joined': () => Promise.all([
    count('select count(*) from dms where recipient_id = ?', [me]),
    count('select count(*) from dm_hidden where user_id = ? and exists (select 1 from dms where recipient_id = ? and dms.id = dm_hidden.dm_id)', [me, me]),
  ]),
  'received total, after: received − hidden received (index count)': () => Promise.all([
    count('select count(*) from dms where recipient_id = ?', [me]),
    count('select count(*) from dm_hidden where user_id = ? and received = 1', [me]),
  ]),
}
const times = Object.fromEntries(Object.keys(variants).map(k => [k, []]))
const runs = Number(args.runs)
for (let i = 0; i < runs + 10; i++) {
  for (const [name, run] of Object.entries(variants)) {
    const t0 = performance.now()
    await run()
    if (i >= 10) times[name].push(performance.now() - t0)
  }
}
console.log(`${runs} runs each, interleaved; ${machine()}`)
console.log('| query | p50 ms | p95 ms |')
console.log('|---|---|---|')
for (const [name, list] of Object.entries(times)) {
  list.sort((a, b) => a - b)
  console.log(`| ${name} | ${pct(list, 50).toFixed(2)} | ${pct(list, 95).toFixed(2)} |`)
}
