// PWA numbers, run by hand: `node bench/pwa.mjs [--runs 5]` (NUXT_OUTPUT_DIR picks the build).
// Starts the built server with a fake Ollama, then in Chromium (playwright-core):
//  - the JavaScript the login page and the chat page load on a first visit (no service worker), as gzip kB
//    (each file gzipped here at level 6, what a reverse proxy's `encode gzip` sends), split into what runs
//    and what is only prefetched at idle time;
//  - what the service worker precaches in the background after the first visit;
//  - the time to open the app with no network: reload → PIN prompt, and PIN submitted → the saved conversation's
//    messages on screen (the encrypted cache's offline reopen; the PBKDF2 derivation alone is timed too).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { createJiti } from 'jiti'
import { chromium } from 'playwright-core'
import { outputDir } from '../scripts/build-state.mjs'
import { benchBuild } from './support.mjs'
import { benchArgs } from './args.mjs'

const { values: opts } = benchArgs({ options: { runs: { type: 'string', default: '5' } } })
const RUNS = Math.min(Math.max(Number(opts.runs) || 5, 1), 50)
const WORKER = { email: 'trabajador@example.com', password: 'worker123' }
const PIN = '482915'
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

benchBuild()
const jiti = createJiti(import.meta.url)
const { startServer, createTestDatabase } = await jiti.import('../tests/support/server.ts')
const { FakeOllama } = await jiti.import('../tests/support/fake-ollama.ts')

const publicDir = join(outputDir(), 'public')
const gzipBytes = path => gzipSync(readFileSync(join(publicDir, path)), { level: 6 }).length
const kB = bytes => `${(bytes / 1024).toFixed(1)} kB`
const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]

/** The JS files a page load fetched, split by whether they run now or are only prefetched. */
function collectScripts(page) {
  const seen = new Map()
  page.on('request', (request) => {
    const url = new URL(request.url())
    if (!url.pathname.endsWith('.js') || url.pathname === '/sw.js' || url.pathname.startsWith('/workbox-')) return
    const prefetch = (request.headers()['sec-purpose'] ?? request.headers().purpose ?? '').includes('prefetch')
    if (!seen.has(url.pathname) || !prefetch) seen.set(url.pathname, prefetch ? 'prefetch' : 'run')
  })
  return () => {
    const sum = kind => [...seen].filter(([, k]) => k === kind).reduce((total, [path]) => total + gzipBytes(path), 0)
    return { files: [...seen].filter(([, k]) => k === 'run').length, run: sum('run'), prefetch: sum('prefetch') }
  }
}

async function signIn(page) {
  await page.goto('/login')
  await page.locator('input[autocomplete="username"]').fill(WORKER.email)
  await page.locator('input[autocomplete="current-password"]').fill(WORKER.password)
  await page.getByRole('button', { name: 'Iniciar sesión' }).click()
  await page.waitForURL(/\/chat\/?$/)
}

const fake = await new FakeOllama().start()
fake.set({ reply: () => 'Una respuesta guardada para leer sin conexión.' })
const db = await createTestDatabase('sqlite')
const server = await startServer({ DATABASE_URL: db.url, OLLAMA_HOST: fake.url, CHAT_RATE_LIMIT: '1000/1m' })
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', args: FLAGS, headless: true })

try {
  // first visits, no service worker: what the pages themselves need
  const cold = await browser.newContext({ baseURL: server.url, serviceWorkers: 'block', locale: 'es-CL' })
  let page = await cold.newPage()
  let scripts = collectScripts(page)
  await page.goto('/login', { waitUntil: 'networkidle' })
  const login = scripts()
  await signIn(page)
  await page.getByTestId('composer').fill('Pregunta para leer sin conexión')
  await page.getByTestId('composer').press('Enter')
  await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/)
  const conversationUrl = page.url()
  await page.locator('[data-testid="message"][data-role="assistant"][data-status="complete"]').waitFor()
  // a new tab straight onto a conversation: the chat page with messages rendered (markdown included)
  page = await cold.newPage()
  scripts = collectScripts(page)
  // not 'networkidle': a signed-in page keeps its live-event stream (/api/events) open
  await page.goto(conversationUrl)
  await page.locator('[data-testid="message"][data-role="assistant"]').waitFor()
  const chat = scripts()
  // a new tab onto the empty new-chat page: the JS it needs before the first message (composer ready), and what
  // it loads once a message is being written (the Markdown renderer, for the first answer)
  page = await cold.newPage()
  scripts = collectScripts(page)
  await page.goto('/chat')
  await page.getByTestId('composer').waitFor()
  const newChat = scripts()
  // the idle-time loads (the live-event stream never lets the network go idle): 3 s of idle time; then a message
  // being typed, which loads the Markdown renderer for its answer
  await page.waitForTimeout(3000)
  const newChatIdle = scripts()
  await page.getByTestId('composer').fill('Una pregunta')
  await page.waitForTimeout(2000)
  const newChatTyped = scripts()
  await cold.close()

  const sw = readFileSync(join(publicDir, 'sw.js'), 'utf8')
  const precached = [...sw.matchAll(/url:"([^"]+)"/g)].map(m => m[1].replace(/^\//, ''))
  const precacheJs = precached.filter(p => p.endsWith('.js')).reduce((total, p) => total + gzipBytes(p), 0)
  const precacheAll = precached.filter(p => p && p !== '/').reduce((total, p) => total + gzipBytes(p), 0)

  // offline opening: a saved conversation, the service worker in control, then reloads with no network
  const context = await browser.newContext({ baseURL: server.url, locale: 'es-CL' })
  page = await context.newPage()
  await signIn(page)
  // offline use with a PIN (Perfil → Usar sin conexión): without one nothing opens offline after a reload
  await page.goto('/settings')
  await page.getByTestId('pwa-pin').locator('input').fill(PIN)
  await page.getByTestId('pwa-pin-confirm').locator('input').fill(PIN)
  await page.getByTestId('pwa-pin-save').click()
  await page.getByTestId('pwa-pin-change').waitFor()
  await page.goto(conversationUrl)
  await page.locator('[data-testid="message"][data-role="assistant"][data-status="complete"]').waitFor()
  await page.waitForFunction(() => !!navigator.serviceWorker?.controller)
  const answer = () => page.locator('[data-testid="message"][data-role="assistant"]', { hasText: 'Una respuesta guardada' }).waitFor()
  const open = async () => {
    const started = performance.now()
    await page.reload()
    await answer()
    return performance.now() - started
  }
  const online = []
  for (let i = 0; i < RUNS; i++) online.push(await open())
  await context.setOffline(true)
  const offline = []
  const afterPin = []
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now()
    await page.reload()
    await page.getByTestId('pwa-unlock-pin').locator('input').fill(PIN)
    offline.push(performance.now() - started)
    const submitted = performance.now()
    await page.getByTestId('pwa-unlock-submit').click()
    await answer()
    afterPin.push(performance.now() - submitted)
  }
  await page.getByTestId('offline-banner').waitFor()
  // the PIN's PBKDF2-SHA256 (600 000 rounds) alone, in this page
  const pbkdf2 = await page.evaluate(async () => {
    const started = performance.now()
    const material = await crypto.subtle.importKey('raw', new TextEncoder().encode('482915'), 'PBKDF2', false, ['deriveKey'])
    await crypto.subtle.deriveKey({ name: 'PBKDF2', hash: 'SHA-256', salt: crypto.getRandomValues(new Uint8Array(16)), iterations: 600_000 }, material, { name: 'AES-GCM', length: 256 }, false, ['decrypt'])
    return performance.now() - started
  })
  await context.close()

  console.log(`login page: ${kB(login.run)} gzip JS in ${login.files} files run (+ ${kB(login.prefetch)} prefetched at idle)`)
  console.log(`new chat page, JS before the first message: ${kB(newChat.run)} gzip in ${newChat.files} files (+ ${kB(newChatIdle.run - newChat.run)} loaded at idle, + ${kB(newChatTyped.run - newChatIdle.run)} once a message is typed, + ${kB(newChatTyped.prefetch)} prefetched)`)
  console.log(`chat page (a conversation open):  ${kB(chat.run)} gzip JS in ${chat.files} files run (+ ${kB(chat.prefetch)} prefetched at idle)`)
  console.log(`service worker precache: ${precached.length} files, ${kB(precacheJs)} gzip JS, ${kB(precacheAll)} gzip in all (background, after the first visit)`)
  console.log(`open a saved conversation by reload, median of ${RUNS}: online ${median(online).toFixed(0)} ms; offline reload → PIN prompt ${median(offline).toFixed(0)} ms`)
  console.log(`offline reopen after the PIN (submit → saved answer on screen), median of ${RUNS}: ${median(afterPin).toFixed(0)} ms (runs: ${afterPin.map(n => n.toFixed(0)).join(', ')}); PBKDF2 600k alone: ${pbkdf2.toFixed(0)} ms`)
  console.log(`load average: ${(await import('node:os')).loadavg().map(n => n.toFixed(2)).join(' ')}`)
}
finally {
  await browser.close()
  await server.stop()
  await db.drop()
  await fake.close()
}
