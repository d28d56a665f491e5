// The built server's own start, run by hand:
//   node bench/server-start.mjs [--runs 9] [--db sqlite|pg] [--redis] [--builds a=<output dir>,b=<output dir>]
// Starts each build's server (default $NUXT_OUTPUT_DIR or .output, built first when stale) `--runs` times, on a copy of
// one migrated database with the demo accounts (what every test server and every restart of a deploy does; the first,
// migrating start is not counted), and reads, once /api/health answers: the process's CPU time (user + system, from
// /proc) and its resident memory (VmRSS) half a second later. `--redis` starts a redis-server and sets REDIS_URL (the
// several-process set-up). Runs are interleaved (a, b, a, …) so that the machine's load hits every build alike; prints
// the medians and ranges per build, and the load average. Linux only (/proc).
import { readFileSync } from 'node:fs'
import { benchArgs } from './args.mjs'
import { benchBuild, freshDatabase, machine, median, sleep, startRedis, startServer } from './support.mjs'

const { values: opts } = benchArgs({
  options: {
    runs: { type: 'string', default: '9' },
    db: { type: 'string', default: 'sqlite' },
    redis: { type: 'boolean', default: false },
    builds: { type: 'string' },
  },
})
const RUNS = Math.min(Math.max(Number(opts.runs) || 9, 1), 100)
const KIND = opts.db === 'pg' ? 'pg' : 'sqlite'
const builds = opts.builds
  ? opts.builds.split(',').map((pair) => { const [name, dir] = pair.split('='); return { name, dir } })
  : [{ name: 'build', dir: benchBuild() }]

const TICK_MS = 10 // USER_HZ = 100 on Linux
function cpuMs(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(fields[11]) + Number(fields[12])) * TICK_MS
}
const rssMb = pid => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024

const redis = opts.redis ? await startRedis() : null
const env = redis ? { REDIS_URL: redis.url } : {}

// the template: migrated and seeded by a first start of the first build
const template = await freshDatabase(KIND, 'energyapp_bench_start')
const first = await startServer({ databaseUrl: template.url, env, output: builds[0].dir })
await first.stop()

const results = new Map(builds.map(b => [b.name, { cpu: [], rss: [] }]))
const loads = []
for (let run = 0; run < RUNS; run++) {
  loads.push(machine())
  for (const build of builds) {
    const db = await freshDatabase(KIND, 'energyapp_bench_start', { template })
    const server = await startServer({ databaseUrl: db.url, env, output: build.dir })
    const cpu = cpuMs(server.pid)
    await sleep(500)
    results.get(build.name).cpu.push(cpu)
    results.get(build.name).rss.push(rssMb(server.pid))
    await server.stop()
    await db.drop()
  }
}
await template.drop()
redis?.child.kill('SIGKILL')

const range = values => `${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)}`
console.log(`server start, ${KIND}${redis ? ' + REDIS_URL' : ''}, ${RUNS} runs per build (${loads[0]} … ${loads.at(-1)})`)
console.log('| build | CPU to ready, median (range) ms | RSS 0.5 s after ready, median (range) MB |')
console.log('|---|---|---|')
for (const [name, r] of results) console.log(`| ${name} | ${median(r.cpu).toFixed(0)} (${range(r.cpu)}) | ${median(r.rss).toFixed(1)} (${range(r.rss)}) |`)
