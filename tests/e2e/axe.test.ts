import { createRequire } from 'node:module'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { insertConversation } from '../api/admin-support'
import { launchBrowser, NO_SERVICE_WORKER, SETTLE_MS, settled, signIn } from '../support/browser'
import { Client, DEMO } from '../support/http'

// axe-core (WCAG 2.0–2.2 A/AA and best practices) on every page, at 360 and 1280 px, light and dark: zero
// violations. The page's CSP refuses injected scripts, so these contexts bypass it (only to inject axe).

const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js')
const SIGNED_OUT = ['/login', '/register', '/forgot-password']
const SIGNED_IN = [
  '/chat', '/messages', '/reports', '/settings', '/settings/security', '/settings/sessions', '/settings/tokens',
  '/admin', '/admin/users', '/admin/roles', '/admin/audit', '/admin/prompts', '/admin/model', '/admin/stats', '/admin/reports', '/admin/channels',
]
const WIDTHS = [
  { width: 360, height: 740 },
  { width: 1280, height: 800 },
] as const
const SCHEMES = ['light', 'dark'] as const

interface Violation { id: string, impact: string | null, help: string, nodes: Array<{ target: unknown[] }> }

let browser: Browser
let conversationPath: string

beforeAll(async () => {
  browser = await launchBrowser()
  const admin = new Client()
  await admin.login(DEMO.admin.email, DEMO.admin.password)
  const me = (await admin.get('/api/auth/me')).body as { id: string }
  const id = await insertConversation(me.id, {
    title: 'Revisión de accesibilidad',
    messages: [
      { role: 'user', content: '¿Qué revisamos hoy?' },
      { role: 'assistant', content: '## Lista\n\n| Planta | MW |\n|---|---:|\n| Antofagasta | 120 |\n\n```js\nconsole.log(1)\n```' },
    ],
  })
  conversationPath = `/chat/${id}`
})
afterAll(async () => { await browser?.close() })

async function newContext(size: typeof WIDTHS[number]): Promise<BrowserContext> {
  const context = await browser.newContext({ baseURL: inject('baseUrl'), viewport: size, locale: 'es-CL', bypassCSP: true, ...NO_SERVICE_WORKER })
  context.setDefaultTimeout(SETTLE_MS)
  return context
}

/** The page has drawn its data: its main heading, no loading indicator on screen, nothing moving. */
async function ready(page: Page, path: string) {
  await page.waitForURL(url => url.pathname === path.split('?')[0])
  await page.locator('h1, h2').first().waitFor()
  await page.waitForFunction(() => ![...document.querySelectorAll('[aria-busy="true"], .ui-spinner')].some(el => (el as HTMLElement).offsetParent !== null))
  await settled(page)
}

async function violations(page: Page, where: string): Promise<string[]> {
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (c: Document, o: object) => Promise<{ violations: Violation[] }> } }).axe
    return (await axe.run(document, { resultTypes: ['violations'] })).violations
  })
  return found.map(v => `${where}: ${v.id} (${v.impact}) ${v.help} → ${v.nodes.map(n => JSON.stringify(n.target)).join(', ')}`)
}

/**
 * Controls whose text does not fit their box and is neither cut with an ellipsis nor scrollable: a label running
 * past a button's edges on a phone ("Activar verificación en dos pasos" at 360 px). axe does not look at this.
 */
async function clipped(page: Page, where: string): Promise<string[]> {
  const found = await page.evaluate(() => {
    const controls = document.querySelectorAll<HTMLElement>('button, a, [role="tab"], [role="menuitem"], select, label')
    return [...controls].filter((el) => {
      // (a 1-px box is a label kept for screen readers only)
      if (!el.offsetParent || !el.textContent?.trim() || el.clientWidth <= 1) return false
      const style = getComputedStyle(el)
      if (style.display === 'inline' || style.textOverflow === 'ellipsis' || /auto|scroll/.test(style.overflowX)) return false
      return el.scrollWidth > el.clientWidth + 1
    }).map(el => `${el.tagName.toLowerCase()} "${el.textContent!.trim().slice(0, 60)}" (${el.scrollWidth} > ${el.clientWidth} px)`)
  })
  return found.map(text => `${where}: ${text}`)
}

/** The page as it stands, checked in light and then in dark (the system colour scheme switched in place). */
async function bothSchemes(page: Page, where: string): Promise<string[]> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ path: AXE })
  const found: string[] = []
  for (const colorScheme of SCHEMES) {
    await page.emulateMedia({ colorScheme })
    await page.waitForFunction(dark => matchMedia('(prefers-color-scheme: dark)').matches === dark, colorScheme === 'dark')
    await settled(page)
    found.push(...await violations(page, `${where} ${colorScheme}`))
  }
  return found
}

describe('axe-core on every page (and no control\'s text running out of its box)', () => {
  // one context per width, signed in once; each page is loaded once and checked in both colour schemes
  it.each(WIDTHS)('$width px, light and dark: no violations', async (size) => {
    const context = await newContext(size)
    const page = await context.newPage()
    const found: string[] = []
    const overflowing: string[] = []
    const where = (path: string) => `${path} @${size.width}`
    try {
      for (const path of SIGNED_OUT) {
        await page.goto(path)
        await ready(page, path)
        overflowing.push(...await clipped(page, where(path)))
        found.push(...await bothSchemes(page, where(path)))
      }
      await signIn(page, DEMO.admin)
      // the conversation last: its open states are checked on the same load
      for (const path of [...SIGNED_IN, conversationPath]) {
        await page.goto(path)
        await ready(page, path)
        overflowing.push(...await clipped(page, where(path)))
        found.push(...await bothSchemes(page, where(path)))
      }
      // open states: the conversation drawer on a phone, the conversation "…" menu on a desktop
      if (size.width < 768) {
        await page.getByRole('button', { name: 'Abrir conversaciones' }).click()
        await page.getByRole('dialog').waitFor()
        found.push(...await bothSchemes(page, where('drawer open')))
      }
      else {
        await page.getByTestId('conversation-item').first().hover()
        await page.getByRole('button', { name: /^Acciones para/ }).first().click()
        await page.getByRole('menu').waitFor()
        found.push(...await bothSchemes(page, where('conversation menu open')))
      }
    }
    finally {
      await context.close()
    }
    expect(found).toEqual([])
    expect(overflowing).toEqual([])
  }, 300_000)
})
