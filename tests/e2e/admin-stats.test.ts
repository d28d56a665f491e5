import type { Browser, Locator, Page } from 'playwright-core'
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { insertConversation, makeUser } from '../api/admin-support'
import { launchBrowser, SCREENSHOTS, settled, signIn, trackTabs } from '../support/browser'
import { Client, DEMO } from '../support/http'

// Administración → Estadísticas on a phone: the breakdown tables scroll sideways inside their own box (with a
// shadow at the edge that has more), never the page; and the labels say what is counted: messages with the
// assistant (questions and answers, not messages between people) and people active in the period.

let browser: Browser
// this server's Ollama is down on purpose: the chat page where sign-in lands gets 503 from /api/models
const tabs = trackTabs(() => browser, { allow: [/status of 503/] })
const TEAM = 'Equipo de Valentina Hernández Soto'

beforeAll(async () => {
  browser = await launchBrowser()
  const admin = new Client()
  await admin.login(DEMO.admin.email, DEMO.admin.password)
  const supervisor = await makeUser(admin, 'supervisor', null, 'e2e-stats-sup')
  await admin.patch(`/api/admin/users/${supervisor.id}`, { fullName: 'Valentina Hernández Soto' })
  for (const name of ['Ignacio Fuenzalida', 'Constanza Araya']) {
    const worker = await makeUser(admin, 'worker', supervisor.id, 'e2e-stats')
    await admin.patch(`/api/admin/users/${worker.id}`, { fullName: name })
    await insertConversation(worker.id, {
      title: 'Consumo de la planta',
      messages: [
        { role: 'user', content: '¿Cuánto consumió la planta ayer?' },
        { role: 'assistant', content: 'Unos 120 MWh.', promptTokens: 123_456, completionTokens: 654_321, firstTokenMs: 420 },
      ],
    })
  }
})

afterAll(async () => { await browser?.close() })
afterEach(() => tabs.closeAll())

async function open(width: number, height: number, colorScheme: 'light' | 'dark' = 'light', english = false) {
  const { page } = await tabs.open({ width, height, colorScheme })
  if (english) {
    await page.goto('/login')
    await page.getByRole('button', { name: 'English' }).click()
    await page.locator('input[autocomplete="username"]').fill(DEMO.admin.email)
    await page.locator('input[autocomplete="current-password"]').fill(DEMO.admin.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(url => url.pathname.startsWith('/chat'))
  }
  else await signIn(page, DEMO.admin)
  await page.goto('/admin/stats')
  await page.getByRole('region', { name: english ? 'By team' : 'Por equipo' }).getByText(english ? "Valentina Hernández Soto's team" : TEAM).waitFor()
  return page
}

async function shot(page: Page, name: string) {
  mkdirSync(SCREENSHOTS, { recursive: true })
  await settled(page)
  await page.screenshot({ path: resolve(SCREENSHOTS, `${name}.png`) })
}

/** The page (document, and the admin page's own scroller) does not scroll sideways. */
const noSidewaysScroll = (page: Page) => page.evaluate(() =>
  [document.documentElement, document.body, ...document.querySelectorAll<HTMLElement>('main, .admin-page')]
    .filter(el => el.scrollWidth > el.clientWidth + 1).map(el => `${el.tagName.toLowerCase()}.${el.className} ${el.scrollWidth} > ${el.clientWidth}`))

/**
 * The table's scroll box (the element that scrolls sideways, the region itself or a box inside it): wider content than
 * the box; the last header cell cut off until the box is scrolled to its end, and then wholly inside the box.
 */
async function scrollsInsideItsBox(region: Locator) {
  return region.evaluate(async (el) => {
    const box = [el, ...el.querySelectorAll<HTMLElement>('*')].find(e => /auto|scroll/.test(getComputedStyle(e).overflowX))
    if (!box) return { box: 'none' }
    const last = el.querySelector('thead th:last-child')!
    const inside = () => {
      const b = box.getBoundingClientRect()
      const c = last.getBoundingClientRect()
      return c.left >= b.left - 0.5 && c.right <= b.right + 0.5
    }
    const wider = box.scrollWidth > box.clientWidth
    const before = inside()
    box.scrollLeft = box.scrollWidth
    await new Promise(requestAnimationFrame)
    const after = inside()
    const heading = el.querySelector('h3')
    // the box's own name: the heading is not scrolled away with the table
    const headingStays = !heading || !box.contains(heading)
    const image = getComputedStyle(box).backgroundImage
    box.scrollLeft = 0
    return { wider, before, after, headingStays, shadow: (image.match(/gradient/g) ?? []).length }
  })
}

/** How each column of a table is aligned: the header row and every body cell, as `left`/`right`. */
const alignment = (region: Locator) => region.evaluate(el => ({
  head: [...el.querySelectorAll('thead th')].map(th => getComputedStyle(th).textAlign),
  numbers: [...new Set([...el.querySelectorAll('tbody td')].map(td => getComputedStyle(td).textAlign))],
}))

const headers = (region: Locator) => region.locator('thead th').allTextContents().then(list => list.map(s => s.trim()))

describe('Administración → Estadísticas', () => {
  it('360×740: the tables scroll sideways inside their box, not the page; the labels say what is counted', async () => {
    const page = await open(360, 740)
    const teams = page.getByRole('region', { name: 'Por equipo' })
    const people = page.getByRole('region', { name: 'Por persona' })
    await people.getByText('Ignacio Fuenzalida').waitFor()
    await settled(page)

    expect(await noSidewaysScroll(page)).toEqual([])
    expect(await scrollsInsideItsBox(teams)).toEqual({ wider: true, before: false, after: true, headingStays: true, shadow: 4 })
    // the per-person table fits, or else scrolls the same way
    const person = await scrollsInsideItsBox(people)
    expect(person).toMatchObject({ after: true, headingStays: true, shadow: 4 })
    expect(await noSidewaysScroll(page)).toEqual([])
    expect(await alignment(teams)).toEqual({ head: ['left', 'right', 'right', 'right'], numbers: ['right'] })
    expect(await alignment(people)).toEqual({ head: ['left', 'right', 'right'], numbers: ['right'] })

    // what each number counts
    expect(await headers(teams)).toEqual(['Equipo', 'Personas activas', 'Mensajes con el asistente', 'Tokens'])
    expect(await headers(people)).toEqual(['Persona', 'Mensajes con el asistente', 'Tokens'])
    await expect.poll(() => page.locator('.admin-stats__totals dt').allTextContents()).toEqual(
      ['Mensajes con el asistente', 'Personas activas', 'Tokens', 'Latencia mediana', 'Conversaciones nuevas'])
    await page.getByText('Preguntas y respuestas, sin los mensajes entre personas').waitFor()
    await page.getByRole('figure').filter({ hasText: 'Mensajes con el asistente por día' }).waitFor()
    // each of the team's two people asked once and got an answer: 2 messages each
    const row = teams.getByRole('row').filter({ hasText: TEAM })
    expect((await row.getByRole('cell').allTextContents()).map(s => s.trim())).toEqual(['2', '4', '1.555.554'])

    await shot(page, 'admin-stats-totals-360')
    await teams.scrollIntoViewIfNeeded()
    await shot(page, 'admin-stats-teams-360')
    await teams.evaluate((el) => {
      const box = [el, ...el.querySelectorAll<HTMLElement>('*')].find(e => /auto|scroll/.test(getComputedStyle(e).overflowX))!
      box.scrollLeft = box.scrollWidth
    })
    await shot(page, 'admin-stats-teams-scrolled-360')
  })

  it('360×740 in English, dark: the same, in words that fit', async () => {
    const page = await open(360, 740, 'dark', true)
    const teams = page.getByRole('region', { name: 'By team' })
    await settled(page)
    expect(await noSidewaysScroll(page)).toEqual([])
    expect(await scrollsInsideItsBox(teams)).toMatchObject({ after: true, headingStays: true, shadow: 4 })
    expect(await headers(teams)).toEqual(['Team', 'Active people', 'Messages with the assistant', 'Tokens'])
    await expect.poll(() => page.locator('.admin-stats__totals dt').first().textContent()).toBe('Messages with the assistant')
    await page.getByText('Questions and answers, not messages between people').waitFor()
    await teams.scrollIntoViewIfNeeded()
    await shot(page, 'admin-stats-teams-360-en-dark')
  })

  it.each([[768, 1024], [1280, 800]] as const)('%i px, light and dark: nothing scrolls sideways and the tables fit', async (width, height) => {
    for (const colorScheme of ['light', 'dark'] as const) {
      const page = await open(width, height, colorScheme)
      const teams = page.getByRole('region', { name: 'Por equipo' })
      await settled(page)
      expect(await noSidewaysScroll(page)).toEqual([])
      expect(await scrollsInsideItsBox(teams)).toMatchObject({ wider: false, before: true, after: true })
      await shot(page, `admin-stats-${width}${colorScheme === 'dark' ? '-dark' : ''}`)
      await teams.scrollIntoViewIfNeeded()
      await shot(page, `admin-stats-teams-${width}${colorScheme === 'dark' ? '-dark' : ''}`)
    }
  })

  it('360×740 in dark: the table still scrolls inside its box (the screenshot shows the shadow on a dark card)', async () => {
    const page = await open(360, 740, 'dark')
    const teams = page.getByRole('region', { name: 'Por equipo' })
    await settled(page)
    expect(await scrollsInsideItsBox(teams)).toEqual({ wider: true, before: false, after: true, headingStays: true, shadow: 4 })
    await teams.scrollIntoViewIfNeeded()
    await shot(page, 'admin-stats-teams-360-dark')
  })
})
