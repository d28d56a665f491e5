// Lighthouse mobile performance of every page, run by hand: `node bench/lighthouse.mjs [--runs 3] [--pages login,chat]`.
// Not a test. Builds if the sources changed, starts the built server on a fresh SQLite database with the demo
// accounts behind Caddy with the repository's Caddyfile (compression as in production), seeds one conversation with
// Markdown answers through the fake Ollama (`--rich`: heading, table, code), signs in as the demo admin and runs
// Lighthouse 12.8 (fetched with npx, not a dependency) with its default mobile preset: simulated throttling, 4x CPU.
// Prints, per page, the median of the runs (by performance score): score, FCP, LCP, TBT, CLS, the LCP element, and
// per run the load average and Lighthouse's benchmarkIndex (its CPU speed measure: simulated times scale with it).
// The JSON reports stay in the printed folder for the audits behind a score.
// `--trace`: Lighthouse also saves each run's trace and DevTools log next to its report (`--save-assets`).
import { spawn } from 'node:child_process'
import { mkdirSync, mkdtempSync, readFileSync } from 'node:fs'
import { loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { benchBuild, freePort, freshDatabase, login, machine, seedConversation, startFakeOllama, startServer, waitFor } from './support.mjs'
import { benchArgs } from './args.mjs'

const PAGES = ['login', 'chat', 'conversation', 'settings', 'admin']
const { values: opts } = benchArgs({ options: { runs: { type: 'string', default: '3' }, pages: { type: 'string', default: PAGES.join(',') }, trace: { type: 'boolean', default: false } } })
const RUNS = Math.min(Math.max(Number(opts.runs) || 3, 1), 20)
const pages = opts.pages.split(',').filter(p => PAGES.includes(p))
const CADDY = '/usr/bin/caddy'
const CHROME_PATH = process.env.CHROME_PATH || '/usr/bin/chromium'

benchBuild()
const work = mkdtempSync(join(tmpdir(), 'energyapp-lighthouse-'))
const reports = join(work, 'reports')
mkdirSync(reports)

const children = []
const db = await freshDatabase('sqlite')
const ollamaPort = await freePort()
children.push(startFakeOllama(ollamaPort, { FAKE_RICH: '1', FAKE_DELAY_MS: '0' }))
await waitFor(`http://127.0.0.1:${ollamaPort}/api/tags`)
const sitePort = await freePort()
const site = `http://127.0.0.1:${sitePort}`
const app = await startServer({ databaseUrl: db.url, env: { OLLAMA_HOST: `http://127.0.0.1:${ollamaPort}`, PUBLIC_ORIGIN: site, CHAT_RATE_LIMIT: '1000/1m' } })
const caddyEnv = { SITE_ADDRESS: site, APP_UPSTREAM: new URL(app.url).host, CADDY_LOG_DIR: work, CADDY_ADMIN: `127.0.0.1:${await freePort()}` }
children.push(spawn(CADDY, ['run', '--config', 'Caddyfile', '--adapter', 'caddyfile'], { cwd: join(import.meta.dirname, '..'), env: { ...process.env, ...caddyEnv }, stdio: 'ignore' }))

try {
  await waitFor(`${site}/api/health`)
  const cookie = await login(site, 'admin@example.com', 'admin123')
  const conversationId = await seedConversation(site, cookie)
  const urls = { login: '/login', chat: '/chat', conversation: `/chat/${conversationId}`, settings: '/settings', admin: '/admin' }

  console.log(`Lighthouse 12.8.2, mobile preset (simulated throttling), ${RUNS} run(s) per page, behind Caddy; ${machine()}`)
  console.log(`reports: ${reports}\n`)
  const rows = []
  for (const name of pages) {
    const runs = []
    for (let i = 0; i < RUNS; i++) {
      const load = loadavg()[0]
      const file = join(reports, `${name}-${i + 1}.json`)
      // under heavy load Lighthouse sometimes loses its trace (NO_NAVSTART, NO_FCP): such a run is taken again
      for (let attempt = 1; ; attempt++) {
        try { await lighthouse(site + urls[name], file, name === 'login' ? null : cookie); break }
        catch (error) { if (attempt === 3) throw error; console.log(`  ${name} run ${i + 1}: ${error.message}; again`) }
      }
      runs.push({ ...summarise(JSON.parse(readFileSync(file, 'utf8'))), load })
      const r = runs.at(-1)
      console.log(`  ${name} run ${i + 1}: perf ${r.score}, FCP ${r.fcp}, LCP ${r.lcp}, TBT ${r.tbt}, CLS ${r.cls}, load ${load.toFixed(1)}, benchmarkIndex ${r.benchmarkIndex}`)
    }
    const sorted = [...runs].sort((a, b) => a.score - b.score)
    rows.push({ name, median: sorted[Math.floor(sorted.length / 2)], runs })
  }
  console.log('\n| page | perf (median) | runs | FCP | LCP | TBT | CLS | LCP element | load avg (1 min) | benchmarkIndex |')
  console.log('|---|---|---|---|---|---|---|---|---|---|')
  for (const { name, median: m, runs } of rows) {
    const loads = runs.map(r => r.load.toFixed(1)).join('/')
    const indexes = runs.map(r => r.benchmarkIndex).join('/')
    console.log(`| ${name} | **${m.score}** | ${runs.map(r => r.score).join(', ')} | ${m.fcp} | ${m.lcp} | ${m.tbt} | ${m.cls} | ${m.lcpElement} | ${loads} | ${indexes} |`)
  }
}
finally {
  await app.stop()
  for (const child of children) child.kill('SIGTERM')
  await db.drop()
  console.log(`\n(reports and the Caddy log kept in ${work}; delete the folder when done)`)
}

/** A conversation with two Markdown answers (heading, table, code), through the real chat route and the fake model. */

/** One Lighthouse run (performance only, default mobile preset) writing its JSON report to `file`. */
function lighthouse(url, file, cookie) {
  const args = ['-y', 'lighthouse@12.8.2', url, '--only-categories=performance', '--output=json', `--output-path=${file}`,
    `--chrome-flags=--headless=new --no-sandbox${process.env.LH_GPU ? '' : ' --disable-gpu'}`, '--quiet']
  if (opts.trace) args.push('--save-assets')
  if (cookie) args.push(`--extra-headers=${JSON.stringify({ Cookie: cookie })}`)
  return new Promise((ok, fail) => {
    const child = spawn('npx', args, { env: { ...process.env, CHROME_PATH }, stdio: ['ignore', 'ignore', 'inherit'] })
    child.on('exit', code => code === 0 ? ok() : fail(new Error(`lighthouse ${url} exited with ${code}`)))
  })
}

/** The numbers of one report: score 0–100, metrics as Lighthouse displays them, the LCP element. */
function summarise(report) {
  const audit = id => report.audits[id]
  const lcpItem = audit('largest-contentful-paint-element')?.details?.items?.[0]?.items?.[0]?.node
  return {
    score: Math.round(report.categories.performance.score * 100),
    fcp: audit('first-contentful-paint').displayValue,
    lcp: audit('largest-contentful-paint').displayValue,
    tbt: audit('total-blocking-time').displayValue,
    cls: audit('cumulative-layout-shift').displayValue,
    lcpElement: lcpItem ? `\`${(lcpItem.nodeLabel || lcpItem.snippet).replace(/\s+/g, ' ').slice(0, 50)}\`` : '—',
    benchmarkIndex: Math.round(report.environment.benchmarkIndex),
  }
}
