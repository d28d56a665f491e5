// How long a page load that lands on a conversation takes to show its messages on a phone's network, run by hand:
// `node bench/open-conversation.mjs [runs]` (default 8 loads per build). Builds are given as NUXT_OUTPUT_DIR (one
// build) or BUILDS=dirA,dirB (alternated, load by load, so the machine's load falls on both alike).
//
// Starts each build on a fresh SQLite database with a fake Ollama (`--rich` answers), seeds one conversation, and
// loads /chat/<id> in Chromium as a signed-in phone that has signed in on this device before (the session cookie
// and the device's sign-in mark), with Chromium's own network emulation at Lighthouse's mobile figures (150 ms round
// trip, 1.6 Mbit/s down, 750 kbit/s up) and no CPU slow-down. Prints, per build, the median and spread of the time
// from navigation to the first message on screen, and to the answers' code block (the page's LCP element).
import { chromium } from 'playwright-core'
import { freePort, freshDatabase, login, machine, median, quantile, seedConversation, startFakeOllama, startServer, waitFor } from './support.mjs'

const RUNS = Number(process.argv[2] || 8)
const builds = (process.env.BUILDS || process.env.NUXT_OUTPUT_DIR || '').split(',').filter(Boolean)
if (!builds.length) throw new Error('give the build(s): NUXT_OUTPUT_DIR=… or BUILDS=dirA,dirB')

const op = await freePort()
const fake = startFakeOllama(op, { FAKE_RICH: '1', FAKE_DELAY_MS: '0' })
await waitFor(`http://127.0.0.1:${op}/api/tags`)
const sites = []
for (const output of builds) {
  const db = await freshDatabase('sqlite')
  const app = await startServer({ databaseUrl: db.url, output, env: { OLLAMA_HOST: `http://127.0.0.1:${op}`, CHAT_RATE_LIMIT: '1000/1m' } })
  const cookie = await login(app.url, 'admin@example.com', 'admin123')
  sites.push({ output, db, app, cookie, conversationId: await seedConversation(app.url, cookie, 2), first: [], code: [] })
}

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'], headless: true })
for (let run = 0; run < RUNS; run++) {
  for (const site of sites) {
    const context = await browser.newContext({ serviceWorkers: 'block', viewport: { width: 412, height: 823 }, isMobile: true, hasTouch: true })
    await context.addCookies(site.cookie.split('; ').map((p) => { const i = p.indexOf('='); return { name: p.slice(0, i), value: p.slice(i + 1), url: site.app.url } }))
    // the device's sign-in mark, as a sign-in on this device leaves it (stores/offline.ts)
    await context.addInitScript(() => { if (!localStorage.getItem('energyapp:offline-clean')) localStorage.setItem('energyapp:offline-clean', `used:${Date.now()}:bench`) })
    const page = await context.newPage()
    const cdp = await context.newCDPSession(page)
    await cdp.send('Network.enable')
    await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 150, downloadThroughput: 1.6 * 1024 * 1024 / 8, uploadThroughput: 750 * 1024 / 8 })
    const started = Date.now()
    await page.goto(`${site.app.url}/chat/${site.conversationId}`)
    await page.locator('[data-testid="message"]').first().waitFor()
    site.first.push(Date.now() - started)
    await page.locator('[data-testid="message"] pre').first().waitFor()
    site.code.push(Date.now() - started)
    await context.close()
  }
}

const spread = values => `${median(values)} ms (p10 ${quantile(values, 0.1)}, p90 ${quantile(values, 0.9)})`
console.log(`\nopen /chat/<id> on a phone's network (150 ms RTT, 1.6 Mbit/s), ${RUNS} loads per build, alternated; ${machine()}\n`)
console.log('| build | first message on screen | code block on screen |\n|---|---|---|')
for (const site of sites) console.log(`| \`${site.output}\` | ${spread(site.first)} | ${spread(site.code)} |`)
await browser.close()
for (const site of sites) { await site.app.stop(); await site.db.drop() }
fake.kill()
process.exit(0)
