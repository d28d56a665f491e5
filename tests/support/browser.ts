import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core'
import { inject } from 'vitest'

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

/** A fresh browser context (its own cookies) on the test server, collecting console errors. */
export async function openPage(browser: Browser, opts: { width?: number, height?: number, locale?: string, colorScheme?: 'light' | 'dark', baseUrl?: string } = {}): Promise<TestPage> {
  const context = await browser.newContext({
    baseURL: opts.baseUrl ?? inject('baseUrl'),
    viewport: { width: opts.width ?? 1280, height: opts.height ?? 800 },
    locale: opts.locale ?? 'es-CL',
    colorScheme: opts.colorScheme ?? 'light',
  })
  context.setDefaultTimeout(SETTLE_MS)
  const page = await context.newPage()
  const errors: string[] = []
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !EXPECTED.some(re => re.test(msg.text()))) errors.push(`console: ${msg.text()}`)
  })
  page.on('pageerror', error => errors.push(`pageerror: ${error.message}`))
  return { page, context, errors, close: () => context.close() }
}

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
