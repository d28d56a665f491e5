import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Browser, type BrowserContext, chromium, type Locator, type Page } from 'playwright-core'
import { expect, inject, TestRunner } from 'vitest'

/**
 * How long a page may take to get somewhere on the CI machine (2 cores shared with the API suites and a
 * second browser): Playwright's waits (`waitFor`, navigation, auto-waiting reads). `expect.poll` gets the same
 * budget from the e2e project in vitest.config.ts (its default, 1 s, is far too soon for a loaded machine).
 */
export const SETTLE_MS = 30_000

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

/** Debian's Chromium, as found by scripts/test.mjs (CHROMIUM_PATH). */
export function launchBrowser(): Promise<Browser> {
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
  return chromium.launch({ executablePath, args: FLAGS, headless: true })
}

export interface TestPage {
  page: Page
  context: BrowserContext
  /** Console errors and uncaught exceptions seen so far (a test expects none). */
  errors: string[]
  close: () => Promise<void>
}

// refusals the tests provoke on purpose (a signed-out visit itself asks /api/auth/session, which answers 200)
const EXPECTED = [/Failed to load resource: the server responded with a status of (401|403|409|429|400)/]

export interface OpenOptions {
  width?: number
  height?: number
  locale?: string
  colorScheme?: 'light' | 'dark'
  baseUrl?: string
  /** Console errors this page may show besides the usual refusals (say why where you pass it). */
  allow?: RegExp[]
  /** Lets the page read and write the clipboard (copy buttons). */
  clipboard?: boolean
  /** Lets the app's service worker install (offline tests). Off by default: see NO_SERVICE_WORKER. */
  serviceWorker?: boolean
}

/**
 * A new context's first page installs the app's service worker, which precaches every chunk (75 files) right after
 * load: about 1.4 s of browser CPU per context, which across the suite's ~250 contexts was a third of the browser's
 * work in CI, on the 2 cores the API projects share. Only tests of what the worker does (offline, the install card,
 * updates) let it in: `serviceWorker: true` here, or their own contexts (tests/e2e/pwa.test.ts).
 */
export const NO_SERVICE_WORKER = { serviceWorkers: 'block' } as const

/**
 * A fresh browser context (its own cookies) on the test server, collecting console errors, uncaught
 * exceptions and any native dialog (the app has none: one would block a real user).
 */
export async function openPage(browser: Browser, opts: OpenOptions = {}): Promise<TestPage> {
  const baseURL = opts.baseUrl ?? inject('baseUrl')
  const context = await browser.newContext({
    baseURL,
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
    locale: opts.locale ?? 'es-CL',
    colorScheme: opts.colorScheme ?? 'light',
    ...(opts.serviceWorker ? {} : NO_SERVICE_WORKER),
  })
  context.setDefaultTimeout(SETTLE_MS)
  if (opts.clipboard) await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL })
  const page = await context.newPage()
  const errors: string[] = []
  const expected = [...EXPECTED, ...(opts.allow ?? [])]
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !expected.some(re => re.test(msg.text()))) errors.push(`console: ${msg.text()}`)
  })
  page.on('pageerror', error => errors.push(`pageerror: ${error.message}`))
  page.on('dialog', (dialog) => { errors.push(`dialog: ${dialog.message()}`); void dialog.dismiss() })
  const trail = pageTrail(page)
  async function close() {
    // closed by an afterEach after the test failed: say what the page showed then, so a red CI run explains itself
    const failed = TestRunner.getCurrentTest()?.result?.state === 'fail'
    const seen = failed ? await trail.describe() : null
    await context.close()
    if (seen) throw new Error(`the page when the test failed (closing it): ${seen}`)
  }
  return { page, context, errors, close }
}

const recent = (list: string[], line: string) => { list.push(line); if (list.length > 6) list.shift() }

/** The last refusals and console lines of a page, and a one-look description of it for a failure report. */
function pageTrail(page: Page) {
  const refusals: string[] = []
  const consoleLines: string[] = []
  page.on('response', (res) => { if (res.status() >= 400) recent(refusals, `${res.status()} ${res.request().method()} ${new URL(res.url()).pathname}`) })
  page.on('requestfailed', req => recent(refusals, `failed ${req.method()} ${new URL(req.url()).pathname}: ${req.failure()?.errorText}`))
  page.on('console', msg => recent(consoleLines, `${msg.type()}: ${msg.text().slice(0, 120)}`))
  return {
    async describe() {
      // the visible text, and what each field holds (innerText has none of it; passwords as their length only)
      const read = page.evaluate(() => {
        const fields = [...document.querySelectorAll<HTMLInputElement | HTMLTextAreaElement>('input:not([type=hidden]), textarea')]
          .map((el) => {
            const name = el.labels?.[0]?.textContent?.trim() || el.getAttribute('aria-label') || el.name || el.type
            return `${name}=${el.type === 'password' ? `(${el.value.length} characters)` : JSON.stringify(el.value.slice(0, 60))}`
          })
        return { text: document.body?.innerText ?? '', fields: fields.join(', ') }
      })
      let timer: NodeJS.Timeout | undefined
      const giveUp = new Promise<{ text: string, fields: string }>((resolve) => {
        timer = setTimeout(resolve, 5000, { text: '(the page did not answer within 5 s)', fields: '' })
      })
      const { text, fields } = await Promise.race([read, giveUp])
        .catch((e: Error) => ({ text: `(unreadable: ${e.message})`, fields: '' }))
        .finally(() => clearTimeout(timer))
      return [
        page.url(),
        `    text: ${text.replace(/\s+/g, ' ').trim().slice(0, 400)}`,
        `    fields: ${fields || 'none'}`,
        `    refused: ${refusals.join(' · ') || 'nothing'}`,
        `    console: ${consoleLines.join(' · ') || 'nothing'}`,
      ].join('\n')
    },
  }
}

/**
 * The tabs one test file opens, with the file's defaults: `open()` in a test, `closeAll()` in `afterEach`,
 * which closes them and fails the test on any error a tab collected.
 */
export function trackTabs(browser: () => Browser, defaults: OpenOptions = {}) {
  const opened: TestPage[] = []
  return {
    async open(opts: OpenOptions = {}) {
      const tab = await openPage(browser(), { ...defaults, ...opts, allow: [...(defaults.allow ?? []), ...(opts.allow ?? [])] })
      opened.push(tab)
      return tab
    },
    async closeAll() {
      for (const tab of opened.splice(0)) {
        const errors = [...tab.errors]
        await tab.close()
        expect(errors, 'console errors').toEqual([])
      }
    },
  }
}

export interface Account { email: string, password: string }

/**
 * Signs in through the Spanish login form (opened first unless `goto: false`) and waits to land on
 * `landing` (the chat, unless the account must change its password first).
 */
export async function signIn(page: Page, account: Account, { landing = '/chat', goto = true } = {}) {
  if (goto) await page.goto('/login')
  await page.locator('input[autocomplete="username"]').fill(account.email)
  await page.locator('input[autocomplete="current-password"]').fill(account.password)
  await page.getByRole('button', { name: 'Iniciar sesión' }).click()
  await page.waitForURL(url => url.pathname.replace(/\/$/, '') === landing)
}

/**
 * Types `text` in a search box whose list filters as one types (after a short pause) and resolves once every row of
 * `rows` contains it. Clicking a row before then can land on another person: the filtered answer redraws the list
 * between Playwright's aim and its click (CI: roles.test.ts opened the wrong user and waited 30 s for a row).
 */
export async function searchList(search: Locator, text: string, rows: Locator) {
  await search.fill(text)
  const needle = text.toLowerCase()
  await expect.poll(() => rows.evaluateAll((els, n) => els.length > 0 && els.every(el => (el.textContent ?? '').toLowerCase().includes(n)), needle)).toBe(true)
}

/** Types `text` in the chat composer and sends it with Enter. */
export async function send(page: Page, text: string) {
  const composer = page.getByTestId('composer')
  await composer.fill(text)
  await composer.press('Enter')
}

export const assistantMessages = (page: Page) => page.locator('[data-testid="message"][data-role="assistant"]')
export const lastAnswer = (page: Page) => assistantMessages(page).last()

/**
 * Resolves once nothing on the page is moving — no CSS transition or animation running (endless ones, like a
 * spinner, aside) — and the browser has drawn two more frames: what a sleep before a measurement or a
 * screenshot was waiting for.
 */
export async function settled(page: Page) {
  await page.waitForFunction(() => document.getAnimations().every(a => a.playState !== 'running' || a.effect?.getComputedTiming().iterations === Infinity))
  await page.evaluate(() => new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve))))
}

export const SCREENSHOTS = resolve(import.meta.dirname, '../../test-results/screenshots')

/** A full-page screenshot under test-results/screenshots (git-ignored) for a human to look at. */
export async function screenshot(page: Page, name: string) {
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: resolve(SCREENSHOTS, `${name}.png`), fullPage: true })
}
