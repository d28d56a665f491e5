// `npm test`: every test this machine can run. Builds the app if needed, finds PostgreSQL and Chromium,
// runs the vitest projects that can run, and says what it skipped and why.
// REQUIRE_POSTGRES=1 / REQUIRE_BROWSER=1 turn a skip into a failure (CI sets both).
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { createInterface } from 'node:readline'
import { stripVTControlCharacters } from 'node:util'
import postgres from 'postgres'
import { ensureBuild } from './ensure-build.mjs'

const root = resolve(import.meta.dirname, '..')
const args = process.argv.slice(2)
const pgUrl = process.env.TEST_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres'
const skipped = []

async function postgresReachable() {
  const sql = postgres(pgUrl, { max: 1, connect_timeout: 3, onnotice: () => {} })
  try { await sql`select 1`; return null }
  catch (error) { return error.message }
  finally { await sql.end({ timeout: 1 }).catch(() => {}) }
}

export function chromiumPath() {
  return [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']
    .find(p => p && existsSync(p))
}

const projects = ['unit', 'api-sqlite']
const pgProblem = await postgresReachable()
if (!pgProblem) projects.push('api-pg')
else if (process.env.REQUIRE_POSTGRES === '1') { console.error(`PostgreSQL required but not reachable at ${pgUrl}: ${pgProblem}`); process.exit(1) }
else skipped.push(`api-pg: PostgreSQL not reachable at ${pgUrl} (${pgProblem}); set TEST_PG_URL or start it`)

const chromium = chromiumPath()
if (chromium) projects.push('e2e')
else if (process.env.REQUIRE_BROWSER === '1') { console.error('Chromium required but not found (apt-get install chromium, or set CHROMIUM_PATH)'); process.exit(1) }
else skipped.push('e2e: no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)')

// the Caddy tests (tests/api/caddy.test.ts) need Debian's caddy; CI installs it
const caddy = ['/usr/bin/caddy', '/usr/local/bin/caddy'].find(p => existsSync(p))
if (!caddy) {
  if (process.env.REQUIRE_BROWSER === '1') { console.error('caddy required but not found (apt-get install caddy)'); process.exit(1) }
  skipped.push('tests/api/caddy.test.ts: no caddy binary (apt-get install caddy)')
}

// the Redis tests (live events across processes, login budgets in Redis) start Debian's redis-server
const redis = [process.env.REDIS_SERVER, '/usr/bin/redis-server', '/usr/local/bin/redis-server'].find(p => p && existsSync(p))
if (!redis) {
  if (process.env.REQUIRE_REDIS === '1') { console.error('redis-server required but not found (apt-get install redis-server)'); process.exit(1) }
  skipped.push('Redis cases in tests/api/events-redis.test.ts and tests/security/login-burst.test.ts: no redis-server (apt-get install redis-server)')
}

ensureBuild({ quiet: true })

// vitest gives a 2-core machine one worker, so the projects would run one file after another (~23 min in CI).
// They share nothing (each has its own built server and its own fresh database; ports, Redis and Caddy are per test),
// so with no arguments each project group runs in its own vitest process, side by side, its files still one at a
// time. Lines are prefixed with the group's name; a summary follows. TEST_SERIAL=1, or any argument, runs one vitest.
const vitest = [resolve(root, 'node_modules/vitest/vitest.mjs'), 'run']
const env = { ...process.env, CHROMIUM_PATH: chromium ?? '', TEST_PG_URL: pgUrl }
const groups = [['unit', 'api-sqlite'], ['api-pg'], ['e2e']].map(g => g.filter(p => projects.includes(p))).filter(g => g.length)
const status = args.length || process.env.TEST_SERIAL === '1' || groups.length < 2
  ? spawnSync(process.execPath, [...vitest, ...projectArgs(projects), ...args], { cwd: root, stdio: 'inherit', env }).status ?? 1
  : await runSideBySide(groups)
if (skipped.length) {
  console.log('\nSkipped on this machine:')
  for (const line of skipped) console.log(`  - ${line}`)
}
process.exit(status)

// Vitest's report of a failure: a "FAIL  <project>  <file> > <test>" line, then the error and where it was thrown.
// An error outside any test (an unhandled rejection fails the run with every test passed) has a "⎯ Unhandled
// Rejection ⎯" header, the error, and sentences naming the file and the test that was running. Keeps each header and
// the next few lines (at most 20 reports).
function failureCollector() {
  const lines = []
  let left = 0
  let reports = 0
  return {
    lines,
    see(plain) {
      const unhandled = /^⎯+ (Unhandled (?:Rejection|Error)) ⎯+$/.exec(plain)
      if (unhandled || /^FAIL\s+\S+\s+\S+.*>/.test(plain) || /^FAIL\s+\S+\s+\S+\.test\.ts/.test(plain)) {
        if (++reports > 20) return
        lines.push(unhandled ? unhandled[1] : plain.replace(/\s+/g, ' '))
        left = unhandled ? 2 : 6
      }
      else if (/^(This error originated in|The latest test that might've caused)/.test(plain) && reports <= 20) {
        lines.push(`    ${plain.replace(/\. It (doesn't|might) .*$/, '')}`)
      }
      else if (left > 0 && plain) {
        if (/^⎯/.test(plain)) left = 0
        else { lines.push(`    ${plain}`); left-- }
      }
    },
  }
}

function projectArgs(names) {
  return args.some(a => a.startsWith('--project')) ? [] : names.flatMap(p => ['--project', p])
}

async function runSideBySide(groups) {
  const width = Math.max(...groups.map(g => g.join('+').length))
  console.log(`energyapp: running ${groups.map(g => g.join('+')).join(', ')} side by side (TEST_SERIAL=1 for one at a time)`)
  const results = await Promise.all(groups.map(group => new Promise((done) => {
    const name = group.join('+')
    const tag = `[${name.padEnd(width)}] `
    const started = Date.now()
    const child = spawn(process.execPath, [...vitest, ...projectArgs(group)], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] })
    const tail = []
    const failures = failureCollector()
    for (const stream of [child.stdout, child.stderr]) {
      createInterface({ input: stream }).on('line', (line) => {
        process.stdout.write(`${tag}${line}\n`)
        const plain = stripVTControlCharacters(line).trim()
        if (/^(Test Files|Tests|Errors|Duration)\s/.test(plain)) tail.push(plain.replace(/\s+/g, ' '))
        failures.see(plain)
      })
    }
    child.on('close', code => done({ name, code: code ?? 1, seconds: Math.round((Date.now() - started) / 1000), tail, failed: failures.lines }))
  })))
  console.log('\nSummary')
  for (const r of results) console.log(`  ${r.code === 0 ? 'ok  ' : 'FAIL'} ${r.name.padEnd(width)} ${String(r.seconds).padStart(5)} s  ${r.tail.join(' · ')}`)
  // A CI log is often read from its end only: repeat each failure's name and first error lines here, so a red run
  // says which test failed without the whole log.
  for (const r of results.filter(r => r.failed.length)) {
    console.log(`\nFailed in ${r.name}:`)
    for (const line of r.failed) console.log(`  ${line}`)
  }
  return results.some(r => r.code !== 0) ? 1 : 0
}
