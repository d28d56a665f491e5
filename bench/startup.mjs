// Start-up cost of the web app in Chromium, run by hand:
//   node bench/startup.mjs [--runs 7] [--throttle 4] [--pages login,chat] [--builds a=<output dir>,b=<output dir>]
//                          [--chunks] [--profile <dir>]
// Starts each build's server (`--builds`, default $NUXT_OUTPUT_DIR or .output, which is built first when stale) on a
// fresh SQLite database and opens each page in a fresh browser context per run (no service worker, no cache), the CPU
// slowed `--throttle` times (Lighthouse's mobile preset uses 4): /login signed out, /chat signed in as the demo admin.
// Runs are interleaved (build a, build b, build a, …) so that a change in the machine's load hits every build alike.
// Per run, once the page's form is on screen and the main thread has had an idle moment: CDP Performance.getMetrics'
// ScriptDuration and TaskDuration (all the page's script and main-thread work so far, throttled ms), and from a
// Chromium trace the long tasks (> 50 ms): their count, the longest, and their sum of (duration − 50 ms), i.e. the
// total blocking time over the whole load (Lighthouse counts only after the first paint); and the entry chunk's module
// evaluation (longest v8.evaluateModule). Prints medians per build and page, the load average per run, and the entry
// chunk's size. `--chunks`: also the script time per file (top-level script tasks attributed by URL), medians.
// `--profile <dir>`: writes one CPU profile (.cpuprofile, open in Chromium's DevTools) per build and page.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { gzipSync } from 'node:zlib'
import { chromium } from 'playwright-core'
import { outputDir } from '../scripts/build-state.mjs'
import { benchArgs } from './args.mjs'
import { benchBuild, freshDatabase, login, machine, median, pageMainThread, startServer } from './support.mjs'

const { values: opts } = benchArgs({
  options: {
    runs: { type: 'string', default: '7' },
    throttle: { type: 'string', default: '4' },
    pages: { type: 'string', default: 'login,chat' },
    builds: { type: 'string' },
    chunks: { type: 'boolean', default: false },
    profile: { type: 'string' },
    clock: { type: 'string', default: 'thread' },
  },
})
const RUNS = Math.min(Math.max(Number(opts.runs) || 7, 1), 50)
const THROTTLE = Math.max(Number(opts.throttle) || 1, 1)
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']
// what "on screen" means per page: the form the visitor came for
const PAGES = {
  login: { path: '/login', signedIn: false, ready: 'input[type=password]' },
  chat: { path: '/chat', signedIn: true, ready: 'textarea' },
  settings: { path: '/settings', signedIn: true, ready: '[data-testid=profile-name]' },
  admin: { path: '/admin', signedIn: true, ready: '.admin-row' },
}
const pages = opts.pages.split(',').filter(p => p in PAGES)
const kB = bytes => `${(bytes / 1000).toFixed(1)} kB`

let builds
if (opts.builds) {
  builds = opts.builds.split(',').map((spec) => {
    const [name, dir] = spec.includes('=') ? spec.split('=') : [spec, spec]
    return { name, dir: resolve(dir) }
  })
}
else {
  benchBuild()
  builds = [{ name: 'build', dir: outputDir() }]
}

for (const build of builds) {
  const publicDir = join(build.dir, 'public')
  const entry = /<script[^>]+src="(\/_nuxt\/[^"]+\.js)"/.exec(readFileSync(join(publicDir, 'index.html'), 'utf8'))?.[1]
  if (!entry) throw new Error(`no entry script in ${publicDir}/index.html`)
  const bytes = readFileSync(join(publicDir, entry))
  console.log(`${build.name} (${build.dir}): entry chunk ${entry} ${kB(bytes.length)} min, ${kB(gzipSync(bytes, { level: 6 }).length)} gzip`)
}

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: FLAGS, headless: true })
const started = []
try {
  for (const build of builds) {
    const db = await freshDatabase('sqlite')
    started.push({ stop: () => db.drop() })
    const app = await startServer({ databaseUrl: db.url, output: build.dir })
    started.push(app)
    build.url = app.url
    build.cookie = await login(app.url, 'admin@example.com', 'admin123')
    build.rows = Object.fromEntries(pages.map(p => [p, []]))
  }
  // one unmeasured load per build and page: the server's first answers (and Chromium's) are slower
  for (const build of builds) for (const name of pages) await measureLoad(build, name, { warmUp: true })

  console.log(`${RUNS} run(s) per build and page, interleaved, CPU throttled ${THROTTLE}×, ${machine()}`)
  for (let i = 0; i < RUNS; i++) {
    for (const name of pages) {
      for (const build of builds) {
        const load = machine().replace(/ on .*/, '')
        const row = await measureLoad(build, name, { profile: i === 0 && opts.profile })
        build.rows[name].push(row)
        console.log(`  run ${i + 1} ${name.padEnd(5)} ${build.name.padEnd(10)} script ${row.script.toFixed(0)} ms, tasks ${row.task.toFixed(0)} ms, `
          + `long tasks ${row.longTasks} (longest ${row.longest.toFixed(0)} ms, blocking ${row.blocking.toFixed(0)} ms), entry evaluation ${row.evaluate.toFixed(0)} ms, `
          + `ready ${row.readyMs} ms (${load})`)
      }
    }
  }

  console.log(`\nmedians of ${RUNS} (throttled ms; ${machine()})`)
  console.log('| page | build | script | tasks | long tasks | longest | blocking | entry evaluation | ready |')
  console.log('|---|---|---|---|---|---|---|---|---|')
  for (const name of pages) {
    for (const build of builds) {
      const med = key => median(build.rows[name].map(r => r[key]).filter(Number.isFinite)).toFixed(0)
      console.log(`| ${name} | ${build.name} | ${med('script')} | ${med('task')} | ${med('longTasks')} | ${med('longest')} | ${med('blocking')} | ${med('evaluate')} | ${med('readyMs')} |`)
    }
  }
  if (opts.chunks) {
    for (const name of pages) {
      for (const build of builds) {
        const files = new Set(build.rows[name].flatMap(r => Object.keys(r.byUrl)))
        const lines = [...files].map(f => [f, median(build.rows[name].map(r => r.byUrl[f] ?? 0))]).sort((a, b) => b[1] - a[1])
        console.log(`\n${name} ${build.name}: script time per file (median ms)`)
        for (const [file, ms] of lines.slice(0, 15)) if (ms >= 1) console.log(`  ${ms.toFixed(0).padStart(5)}  ${file}`)
      }
    }
  }
}
finally {
  await browser.close()
  for (const s of started.reverse()) await s.stop()
}

async function measureLoad(build, name, { warmUp = false, profile = false } = {}) {
  const spec = PAGES[name]
  const context = await browser.newContext({ serviceWorkers: 'block', viewport: { width: 412, height: 823 }, isMobile: true, hasTouch: true })
  try {
    if (spec.signedIn) {
      await context.addCookies(build.cookie.split('; ').map((pair) => {
        const at = pair.indexOf('=')
        return { name: pair.slice(0, at), value: pair.slice(at + 1), url: build.url }
      }))
    }
    const page = await context.newPage()
    const cdp = await context.newCDPSession(page)
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: THROTTLE })
    await cdp.send('Performance.enable', { timeDomain: opts.clock === 'wall' ? 'timeTicks' : 'threadTicks' })
    if (profile) { await cdp.send('Profiler.enable'); await cdp.send('Profiler.setSamplingInterval', { interval: 200 }); await cdp.send('Profiler.start') }
    if (!warmUp) await browser.startTracing(page, { categories: ['devtools.timeline', 'v8', 'disabled-by-default-devtools.timeline'] })
    const t0 = Date.now()
    await page.goto(build.url + spec.path)
    await page.locator(spec.ready).first().waitFor()
    const readyMs = Date.now() - t0
    // start-up is over when the main thread gets an idle moment after the form is shown (lazy work queued for idle
    // time then counts too, as in a Lighthouse trace)
    await page.evaluate(() => new Promise(done => requestIdleCallback(() => setTimeout(() => requestIdleCallback(done, { timeout: 5000 }), 200), { timeout: 5000 })))
    const metrics = Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map(m => [m.name, m.value]))
    if (profile) {
      const { profile: cpu } = await cdp.send('Profiler.stop')
      mkdirSync(profile, { recursive: true })
      const file = join(profile, `${build.name}-${name}.cpuprofile`)
      writeFileSync(file, JSON.stringify(cpu))
      console.log(`  profile: ${file}`)
    }
    if (warmUp) return null
    const trace = JSON.parse((await browser.stopTracing()).toString())
    return { ...fromTrace(trace.traceEvents ?? trace, build.url), script: metrics.ScriptDuration * 1000, task: metrics.TaskDuration * 1000, readyMs }
  }
  finally {
    await context.close()
  }
}

function fromTrace(events, site) {
  const main = pageMainThread(events, site)
  const onMain = events.filter(e => e.pid === main.pid && e.tid === main.tid && e.dur)
  const tasks = onMain.filter(e => e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask').map(e => e.dur / 1000)
  const long = tasks.filter(ms => ms > 50)
  const evaluate = onMain.filter(e => e.name === 'v8.evaluateModule').map(e => e.dur / 1000)
  // script time per file: top-level script events (evaluation, function calls from the event loop, compilation) by URL
  const byUrl = {}
  for (const e of onMain) {
    if (!['EvaluateScript', 'v8.evaluateModule', 'FunctionCall', 'v8.compileModule', 'v8.compile', 'TimerFire', 'FireAnimationFrame', 'FireIdleCallback'].includes(e.name)) continue
    const url = e.args?.data?.url || e.args?.data?.scriptName || e.args?.fileName
    if (!url) continue
    const file = url.replace(/^https?:\/\/[^/]+/, '')
    byUrl[file] = (byUrl[file] ?? 0) + e.dur / 1000
  }
  return {
    longTasks: long.length,
    longest: tasks.length ? Math.max(...tasks) : 0,
    blocking: long.reduce((sum, ms) => sum + ms - 50, 0),
    evaluate: evaluate.length ? Math.max(...evaluate) : Number.NaN,
    byUrl,
  }
}

