import type { Browser, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { launchBrowser, NO_SERVICE_WORKER, openPage, SETTLE_MS, signIn } from '../support/browser'
import { DEMO } from '../support/http'

// The HTML shell before and around the app: the frame painted from the HTML alone (ssr is off, so this is all a
// phone shows while the main script loads) and a signed-out visit that logs nothing to the console.

let browser: Browser
beforeAll(async () => { browser = await launchBrowser() })
afterAll(async () => { await browser?.close() })

type Box = { x: number, y: number, width: number, height: number }
const box = async (page: Page, selector: string): Promise<Box | null> => page.locator(selector).first().boundingBox()

async function framePage(size: { width: number, height: number }, colorScheme: 'light' | 'dark', javaScriptEnabled: boolean) {
  const context = await browser.newContext({ baseURL: inject('baseUrl'), viewport: size, locale: 'es-CL', colorScheme, javaScriptEnabled, ...NO_SERVICE_WORKER })
  context.setDefaultTimeout(SETTLE_MS)
  return { context, page: await context.newPage() }
}

describe('the app frame in the HTML', () => {
  it.each([
    { width: 1280, height: 800, colorScheme: 'light', background: 'rgb(246, 248, 250)', sidebar: true },
    { width: 360, height: 740, colorScheme: 'dark', background: 'rgb(11, 18, 32)', sidebar: false },
  ] as const)('with JavaScript off, /chat at $width px ($colorScheme) shows the top bar and the composer, and the sidebar only on a wide screen', async ({ width, height, colorScheme, background, sidebar }) => {
    const { context, page } = await framePage({ width, height }, colorScheme, false)
    try {
      const response = await page.goto('/chat')
      expect(response?.status()).toBe(200)
      await expect.poll(() => page.getByTestId('boot-frame').isVisible()).toBe(true)
      const top = (await box(page, '[data-testid="boot-frame"]'))!
      expect(top).toMatchObject({ x: 0, y: 0, width, height: 56 })
      await expect.poll(() => page.getByTestId('boot-frame').textContent()).toContain('EnergyApp')
      expect(await page.getByTestId('boot-sidebar').isVisible()).toBe(sidebar)
      if (sidebar) expect((await box(page, '[data-testid="boot-sidebar"]'))!.width).toBe(288)
      // the composer skeleton sits at the bottom of the screen, where the app draws the message box
      const composer = (await box(page, '[data-testid="boot-composer"]'))!
      expect(composer.y + composer.height).toBeGreaterThan(height - 24)
      expect(composer.y + composer.height).toBeLessThanOrEqual(height)
      // the page's colour tokens, light or dark by the system (main.css is linked in the shell's <head>)
      expect(await page.locator('.boot').evaluate(el => getComputedStyle(el).backgroundColor)).toBe(background)
    }
    finally {
      await context.close()
    }
  })

  it('the app mounts over the frame without moving it: same top bar, sidebar width and composer bottom (1280 px)', async () => {
    const size = { width: 1280, height: 800 }
    const frame = await framePage(size, 'light', false)
    let before: { top: Box, side: Box, composer: Box }
    try {
      await frame.page.goto('/chat')
      await frame.page.getByTestId('boot-composer').waitFor()
      before = { top: (await box(frame.page, '.boot__top'))!, side: (await box(frame.page, '.boot__side'))!, composer: (await box(frame.page, '.boot__box'))! }
    }
    finally {
      await frame.context.close()
    }
    const app = await framePage(size, 'light', true)
    try {
      await app.page.goto('/login')
      await app.page.locator('input[autocomplete="username"]').fill(DEMO.worker.email)
      await app.page.locator('input[autocomplete="current-password"]').fill(DEMO.worker.password)
      await app.page.getByRole('button', { name: 'Iniciar sesión' }).click()
      await app.page.waitForURL(/\/chat\/?$/)
      await app.page.getByTestId('composer').waitFor()
      const top = (await box(app.page, '.topbar'))!
      const side = (await box(app.page, '.chat-page__sidebar'))!
      const composer = (await box(app.page, '.composer'))!
      expect(top.height).toBe(before.top.height)
      expect(side.x).toBe(before.side.x)
      expect(side.width).toBe(before.side.width)
      expect(Math.abs((composer.y + composer.height) - (before.composer.y + before.composer.height))).toBeLessThanOrEqual(8)
    }
    finally {
      await app.context.close()
    }
  })
})

describe('a signed-out visit', () => {
  it('/login logs no error to the console and asks no route that answers 401', async () => {
    const { context, page } = await framePage({ width: 360, height: 740 }, 'light', true)
    const logged: string[] = []
    const failed: string[] = []
    page.on('console', (msg) => { if (msg.type() === 'error') logged.push(msg.text()) })
    page.on('pageerror', error => logged.push(`pageerror: ${error.message}`))
    page.on('response', (res) => { if (res.status() >= 400) failed.push(`${res.status()} ${new URL(res.url()).pathname}`) })
    const probe = page.waitForResponse(res => new URL(res.url()).pathname === '/api/auth/session')
    try {
      await page.goto('/chat')
      // the probe said nobody is signed in, and the guard sent the visit to the sign-in form
      expect((await probe).status()).toBe(200)
      await page.waitForURL(url => url.pathname === '/login')
      await page.getByRole('button', { name: 'Iniciar sesión' }).waitFor()
      await page.reload()
      await page.getByRole('button', { name: 'Iniciar sesión' }).waitFor()
      await page.evaluate(() => new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve))))
      expect(logged).toEqual([])
      expect(failed).toEqual([])
    }
    finally {
      await context.close()
    }
  })
})

describe('the session check', () => {
  it('leaves with the HTML, before the app\'s script has run, and is the only one the page load makes', async () => {
    const { context, page } = await framePage({ width: 360, height: 740 }, 'light', true)
    const asked: string[] = []
    page.on('request', (req) => { if (new URL(req.url()).pathname.startsWith('/api/')) asked.push(`${req.method()} ${new URL(req.url()).pathname}`) })
    try {
      await signIn(page, DEMO.worker)
      // the app's script held back: the shell alone has already asked who is signed in
      let release!: () => void
      const held = new Promise<void>((resolve) => { release = resolve })
      await page.route(/\/_nuxt\/.*\.js$/, async (route) => { await held; await route.continue() })
      asked.length = 0
      const sessionAsked = page.waitForRequest(req => new URL(req.url()).pathname === '/api/auth/session' && new URL(req.frame().url()).pathname === '/settings')
      const loading = page.goto('/settings')
      await sessionAsked
      release()
      await loading
      // the app took that answer: signed in, with no second session check
      await page.getByTestId('profile-email').waitFor()
      expect(await page.getByTestId('profile-email').textContent()).toBe(DEMO.worker.email)
      expect(asked.filter(line => line === 'GET /api/auth/session')).toHaveLength(1)
    }
    finally {
      await context.close()
    }
  })
})

describe('start-up work a page does not need', () => {
  // the first Intl formatter of a language loads its locale data: a 20–70 ms task on a phone, in the load window
  it('the chat builds no date formatter while it loads; the settings page builds them ahead, in idle moments', async () => {
    // this suite's server has no model: the chat's model list answers 503
    const tab = await openPage(browser, { width: 360, height: 740, allow: [/status of 503/] })
    try {
      await tab.context.addInitScript(() => {
        const w = window as unknown as { built: number }
        w.built = 0
        Intl.DateTimeFormat = new Proxy(Intl.DateTimeFormat, { construct(target, args) { w.built++; return new target(...args) } })
      })
      await signIn(tab.page, DEMO.worker)
      const built = () => tab.page.evaluate(() => (window as unknown as { built: number }).built)
      // two idle callbacks queued after the page's own (the warm-up is queued while the session is checked)
      const idle = () => tab.page.evaluate(() => new Promise(resolve => requestIdleCallback(() => requestIdleCallback(resolve, { timeout: 3000 }), { timeout: 3000 })))
      await tab.page.goto('/chat')
      await tab.page.getByTestId('composer').waitFor()
      await idle()
      expect(await built()).toBe(0)
      await tab.page.goto('/settings')
      await expect.poll(built).toBeGreaterThanOrEqual(2)
      expect(tab.errors).toEqual([])
    }
    finally {
      await tab.close()
    }
  })
})
