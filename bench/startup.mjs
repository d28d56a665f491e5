// Start-up cost of the web app in Chromium, run by hand: `node bench/startup.mjs [--runs 7] [--throttle 4]`
// (NUXT_OUTPUT_DIR picks the build). Starts the built server on a fresh SQLite database and opens /login in a fresh
// context per run (no service worker, no cache) with the CPU slowed `--throttle` times (Lighthouse's mobile preset
// uses 4), recording a Chromium performance trace. Prints, per run and as medians: the entry chunk's module
// evaluation (the trace's longest v8.evaluateModule: the entry script with its static imports, the document's
// long task in Lighthouse), the longest main-thread task, and the time to the login form on screen; and the entry
// chunk's size (minified, gzip level 6). Throttled times scale with the machine's load, printed per run.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { chromium } from 'playwright-core'
import { outputDir } from '../scripts/build-state.mjs'
import { ensureBuild } from '../scripts/ensure-build.mjs'
import { benchArgs } from './args.mjs'
import { freshDatabase, machine, median, startServer } from './support.mjs'

const { values: opts } = benchArgs({ options: { runs: { type: 'string', default: '7' }, throttle: { type: 'string', default: '4' } } })
const RUNS = Math.min(Math.max(Number(opts.runs) || 7, 1), 50)
const THROTTLE = Math.max(Number(opts.throttle) || 1, 1)
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

ensureBuild()
const publicDir = join(outputDir(), 'public')
const html = readFileSync(join(publicDir, 'index.html'), 'utf8')
const entry = /<script[^>]+src="(\/_nuxt\/[^"]+\.js)"/.exec(html)?.[1]
if (!entry) throw new Error('no entry script in index.html')
const entryBytes = readFileSync(join(publicDir, entry))
const kB = bytes => `${(bytes / 1000).toFixed(1)} kB`
console.log(`entry chunk ${entry}: ${kB(entryBytes.length)} min, ${kB(gzipSync(entryBytes, { level: 6 }).length)} gzip`)

const db = await freshDatabase('sqlite')
const app = await startServer({ databaseUrl: db.url })
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: FLAGS, headless: true })
const rows = []
try {
  console.log(`${RUNS} run(s), CPU throttled ${THROTTLE}×, ${machine()}`)
  for (let i = 0; i < RUNS; i++) {
    const context = await browser.newContext({ serviceWorkers: 'block' })
    const page = await context.newPage()
    const cdp = await context.newCDPSession(page)
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE })
    const load = machine()
    await browser.startTracing(page, { categories: ['devtools.timeline', 'v8', 'disabled-by-default-devtools.timeline'] })
    const started = Date.now()
    await page.goto(`${app.url}/login`)
    await page.locator('input[type=password]').waitFor()
    const formMs = Date.now() - started
    const trace = JSON.parse((await browser.stopTracing()).toString())
    await context.close()
    const events = trace.traceEvents ?? trace
    // the trace names no URL for a module's evaluation: the longest one is the entry's (its static imports included)
    const evaluate = events.filter(e => e.name === 'v8.evaluateModule' && e.dur)
    const tasks = events.filter(e => (e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask') && e.dur)
    const row = {
      evaluateMs: evaluate.length ? Math.max(...evaluate.map(e => e.dur)) / 1000 : Number.NaN,
      longestTaskMs: tasks.length ? Math.max(...tasks.map(e => e.dur)) / 1000 : Number.NaN,
      formMs,
    }
    rows.push(row)
    console.log(`  run ${i + 1}: entry evaluation ${row.evaluateMs.toFixed(0)} ms, longest task ${row.longestTaskMs.toFixed(0)} ms, login form ${formMs} ms (${load})`)
  }
  const med = key => median(rows.map(r => r[key]).filter(Number.isFinite)).toFixed(0)
  console.log(`median of ${RUNS}: entry evaluation ${med('evaluateMs')} ms, longest task ${med('longestTaskMs')} ms, login form ${med('formMs')} ms`)
}
finally {
  await browser.close()
  await app.stop()
  await db.drop()
}
