import { readFileSync } from 'node:fs'
import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { type Account, lastAnswer, launchBrowser, screenshot, send, settled, signIn, trackTabs } from '../support/browser'
import { FakeOllama } from '../support/fake-ollama'
import { Client, DEMO, newWorker } from '../support/http'
import { createTestDatabase, type RunningServer, startServer, type TestDatabase } from '../support/server'

// Issue 13 items 2, 5 and 6 in Chromium: the owner's "Accesos" view with its dot, edit-and-resend, archive and
// export from the row menu, the collapsible sidebar, a first-run welcome with the company's starter prompts, and
// a login form whose empty submit marks the empty fields.

const isTitleCall = (body: any) => String(body?.messages?.[0]?.content ?? '').includes('título breve')
const questionOf = (body: any) => String(body?.messages?.at(-1)?.content ?? '')
const SIZES = [[360, 740], [768, 1024], [1280, 800]] as const

let fake: FakeOllama
let db: TestDatabase
let server: RunningServer
let browser: Browser
let admin: Client

beforeAll(async () => {
  fake = await new FakeOllama().start()
  db = await createTestDatabase('sqlite')
  server = await startServer({ DATABASE_URL: db.url, OLLAMA_HOST: fake.url, CHAT_RATE_LIMIT: '1000/1m' })
  browser = await launchBrowser()
  admin = new Client(server.url)
  await admin.login(DEMO.admin.email, DEMO.admin.password)
  fake.set({ reply: body => (isTitleCall(body) ? 'Título' : `Respuesta a: ${questionOf(body)}`) })
})

afterAll(async () => {
  await browser?.close()
  await server?.stop()
  await db?.drop()
  await fake?.close()
})

const tabs = trackTabs(() => browser)
afterEach(() => tabs.closeAll())

/** A browser on the login page, signed in as `account` (and so on the chat) unless it is null. */
async function open(account: Account | null, width = 1280, height = 800) {
  const { page } = await tabs.open({ baseUrl: server.url, width, height })
  if (account) await signIn(page, account)
  else await page.goto('/login')
  return page
}

/** The test id of the element that has the keyboard focus. */
const focused = (page: Page) => page.evaluate(() => document.activeElement?.getAttribute('data-testid') ?? document.activeElement?.tagName)
const done = (page: Page) => lastAnswer(page).and(page.locator('[data-status="complete"]')).waitFor()
async function shots(page: Page, name: string) {
  for (const [width, height] of SIZES) {
    await page.setViewportSize({ width, height })
    await settled(page)
    await screenshot(page, `${name}-${width}`)
  }
  await page.setViewportSize({ width: 1280, height: 800 })
}

describe('first run', () => {
  it('a brand-new user sees a welcome and the company\'s starter prompts (set in Admin → Prompts); one click asks it', async () => {
    const adminPage = await open(DEMO.admin)
    await adminPage.goto('/admin/prompts')
    const input = adminPage.getByTestId('admin-starters-input')
    await expect.poll(() => input.inputValue()).not.toBe('')
    await input.fill('¿Cómo reporto un incidente?\nResume la norma de seguridad eléctrica')
    await adminPage.getByTestId('admin-starters-save').click()
    await adminPage.getByText('Sugerencias guardadas.').waitFor()
    await settled(adminPage)
    await screenshot(adminPage, 'admin-starters-1280')

    const fresh = await newWorker(server.url)
    const page = await open({ email: fresh.email, password: fresh.password })
    await page.getByTestId('welcome').waitFor()
    expect(await page.getByTestId('welcome').textContent()).toContain('¡Hola, Test!')
    await expect.poll(() => page.getByTestId('starter-prompt').allTextContents()).toEqual(['¿Cómo reporto un incidente?', 'Resume la norma de seguridad eléctrica'])
    await shots(page, 'chat-first-run')
    await page.getByTestId('starter-prompt').first().click()
    await done(page)
    await expect.poll(() => lastAnswer(page).getByTestId('message-body').textContent()).toContain('Respuesta a: ¿Cómo reporto un incidente?')
  })

  it('an empty login submit marks each empty field; "¿Olvidaste tu contraseña?" tells to ask an admin without email', async () => {
    const page = await open(null, 360, 740)
    await page.getByRole('button', { name: 'Iniciar sesión' }).click()
    const email = page.locator('input[autocomplete="username"]')
    const password = page.locator('input[autocomplete="current-password"]')
    await expect.poll(() => email.getAttribute('aria-invalid')).toBe('true')
    expect(await password.getAttribute('aria-invalid')).toBe('true')
    await page.getByText('Escribe tu correo.').waitFor()
    await page.getByText('Escribe tu contraseña.').waitFor()
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('autocomplete'))).toBe('username')
    await screenshot(page, 'login-empty-submit-360')
    await email.fill('alguien@example.com')
    await expect.poll(() => email.getAttribute('aria-invalid')).toBeNull()
    expect(await password.getAttribute('aria-invalid')).toBe('true')
    await page.getByTestId('forgot-password-link').click()
    await page.getByTestId('forgot-ask-admin').waitFor()
  })
})

describe('conversation management', () => {
  it('edits a sent message and resends it: the old answer is replaced', async () => {
    const page = await open({ email: 'trabajador@example.com', password: 'worker123' })
    await send(page, 'Potencia de la planta norte')
    await done(page)
    await send(page, 'Y de la planta sur')
    await expect.poll(() => lastAnswer(page).getByTestId('message-body').textContent()).toContain('Respuesta a: Y de la planta sur')
    await done(page)
    const first = page.locator('[data-testid="message"][data-role="user"]').first()
    await first.getByTestId('edit-message').click()
    await first.getByTestId('edit-input').fill('Potencia de la planta oeste')
    await shots(page, 'chat-edit-message')
    await first.getByTestId('edit-send').click()
    await done(page)
    await expect.poll(() => page.locator('[data-testid="message"]').count()).toBe(2)
    await expect.poll(() => lastAnswer(page).getByTestId('message-body').textContent()).toContain('Respuesta a: Potencia de la planta oeste')
    // the server agrees after a reload
    await page.reload()
    await expect.poll(() => page.locator('[data-testid="message"]').allTextContents()).toEqual([
      expect.stringContaining('Potencia de la planta oeste'),
      expect.stringContaining('Respuesta a: Potencia de la planta oeste'),
    ])
  })

  it('archives from the row menu (an "Archivadas" group) and exports as Markdown', async () => {
    const page = await open({ email: 'trabajador@example.com', password: 'worker123' })
    await send(page, 'Checklist de subestación')
    await done(page)
    await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/)
    const id = new URL(page.url()).pathname.split('/').pop()!
    const row = page.getByTestId('conversation-item').filter({ has: page.locator(`[data-conversation="${id}"]`) })
    await row.getByRole('button', { name: /Acciones para/ }).click()
    await page.getByTestId('menu-archive').click()
    await page.getByText('Conversación archivada.').waitFor()
    await page.locator('.chat-list__header', { hasText: 'Archivadas' }).waitFor()
    const res = await page.request.get(`/api/conversations/${id}`)
    expect((await res.json()).archived).toBe(true)

    await row.getByRole('button', { name: /Acciones para/ }).click()
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('menu-export').click()])
    expect(download.suggestedFilename()).toMatch(/\.md$/)
    const text = readFileSync((await download.path())!, 'utf8')
    expect(text).toContain('Checklist de subestación')
    expect(text).toContain('Respuesta a: Checklist de subestación')
  })

  it('on a phone, a conversation deleted from the drawer can be undone there: "Deshacer" shows above the drawer, never over the composer', async () => {
    const page = await open({ email: 'trabajador@example.com', password: 'worker123' }, 360, 740)
    const ids: string[] = []
    for (const question of ['Turnos de la semana en la planta', 'Inventario de repuestos']) {
      await page.goto('/chat')
      await send(page, question)
      await done(page)
      await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/)
      ids.push(new URL(page.url()).pathname.split('/').pop()!)
    }
    const [other, current] = ids as [string, string]
    const row = (id: string) => page.getByTestId('conversation-item').filter({ has: page.locator(`[data-conversation="${id}"]`) })
    const undo = page.getByTestId('undo-delete')
    async function remove(id: string) {
      if (!(await page.getByTestId('conversation-list').isVisible())) await page.getByTestId('open-conversations').click()
      await row(id).getByRole('button', { name: /Acciones para/ }).click()
      await page.getByTestId('menu-delete').click()
      await expect.poll(() => row(id).count()).toBe(0)
      await undo.waitFor()
    }

    // another conversation: the drawer stays open, and the undo is on top of it (Playwright clicks only what would
    // receive the tap), above the composer
    await remove(other)
    expect(await page.getByTestId('conversation-list').isVisible()).toBe(true)
    const bar = (await undo.boundingBox())!
    const composer = (await page.getByTestId('composer').boundingBox())!
    expect(bar.y + bar.height).toBeLessThanOrEqual(composer.y)
    await settled(page)
    await screenshot(page, 'chat-undo-delete-360')
    await undo.getByRole('button', { name: 'Deshacer' }).click({ timeout: 5_000 })
    await row(other).waitFor()
    await expect.poll(() => undo.count()).toBe(0)
    expect(new URL(page.url()).pathname).toBe(`/chat/${current}`)

    // the open one: the chat goes to a new conversation, the undo stays, and undoing opens it again
    await remove(current)
    await page.waitForURL(url => url.pathname === '/chat')
    await expect.poll(() => undo.count()).toBe(1)
    await undo.getByRole('button', { name: 'Deshacer' }).click({ timeout: 5_000 })
    await page.waitForURL(url => url.pathname === `/chat/${current}`)
    await expect.poll(() => undo.count()).toBe(0)
    expect((await page.request.get(`/api/conversations/${current}`)).status()).toBe(200)

    // deleted again and left alone: the toast goes with the undo window, and the server forgets it
    await remove(current)
    await expect.poll(() => undo.count(), { timeout: 15_000 }).toBe(0)
    await expect.poll(async () => (await page.request.get(`/api/conversations/${current}`)).status()).toBe(404)
    expect((await page.request.get(`/api/conversations/${other}`)).status()).toBe(200)
  })

  it('the keyboard keeps its place when Stop gives way to Send at the end of an answer: the composer has the focus', async () => {
    const page = await open({ email: 'trabajador@example.com', password: 'worker123' })
    const held = fake.gate()
    fake.once({ gate: held.gate, gateAfter: 2 })
    await send(page, 'Pregunta con foco')
    // the new conversation's address arrives with the answer's start, and the page then puts the caret in the composer:
    // the keyboard user moves to Stop after that (focusing it earlier lost the race on a CI run)
    await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/)
    await expect.poll(async () => { await page.getByTestId('stop').focus(); return focused(page) }).toBe('stop')
    held.open()
    await done(page)
    await expect.poll(() => focused(page)).toBe('composer')
    // and a Stop pressed from the keyboard does the same
    const again = fake.gate()
    fake.once({ gate: again.gate, gateAfter: 2 })
    await send(page, 'Otra pregunta')
    await page.getByTestId('stop').focus()
    await page.keyboard.press('Enter')
    await expect.poll(() => page.getByTestId('send').count()).toBe(1)
    await expect.poll(() => focused(page)).toBe('composer')
    again.open()
  })

  it('the sidebar folds away from 768 px, the chat takes the width, and it stays folded after a reload', async () => {
    const page = await open({ email: 'trabajador@example.com', password: 'worker123' }, 768, 1024)
    const main = page.locator('.chat-page__main')
    const before = (await main.boundingBox())!.width
    await page.getByTestId('toggle-sidebar').click()
    await expect.poll(async () => (await main.boundingBox())!.width).toBe(768)
    expect(before).toBeLessThan(500)
    await expect.poll(() => page.getByTestId('conversation-list').isVisible()).toBe(false)
    await page.getByTestId('header-new-chat').waitFor()
    await settled(page)
    await screenshot(page, 'chat-sidebar-folded-768')
    await page.reload()
    await expect.poll(async () => (await main.boundingBox())?.width ?? 0).toBe(768)
    await page.getByTestId('toggle-sidebar').click()
    await expect.poll(async () => (await main.boundingBox())!.width).toBe(before)
  })
})

describe('owner transparency', () => {
  it('"Accesos" lists who opened the conversation; a dot marks it until the owner looks', async () => {
    const page = await open({ email: 'trabajador@example.com', password: 'worker123' })
    await send(page, 'Bitácora privada del turno')
    await done(page)
    await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/)
    const id = new URL(page.url()).pathname.split('/').pop()!
    // a supervisor and an admin read it (audited)
    const supervisor = new Client(server.url)
    await supervisor.login(DEMO.supervisor.email, DEMO.supervisor.password)
    expect((await supervisor.get(`/api/admin/conversations/${id}/messages`)).status).toBe(200)
    expect((await admin.get(`/api/admin/conversations/${id}/messages`)).status).toBe(200)

    await page.reload()
    const row = page.getByTestId('conversation-item').filter({ has: page.locator(`[data-conversation="${id}"]`) })
    await row.getByTestId('access-dot').waitFor()
    await page.getByTestId('access-dot-header').waitFor()
    await page.getByTestId('open-access-log').click()
    const dialog = page.getByRole('dialog')
    await expect.poll(() => dialog.getByTestId('access-entry').count()).toBe(2)
    const entries = await dialog.getByTestId('access-entry').allTextContents()
    expect(entries[0]).toMatch(/Administradora Demo · Administrador.*Abrió los mensajes/s)
    expect(entries[1]).toMatch(/Supervisor Demo · Supervisor.*Abrió los mensajes/s)
    await shots(page, 'chat-access-log')
    await page.keyboard.press('Escape')
    await expect.poll(() => row.getByTestId('access-dot').count()).toBe(0)
    // the mark is on the server: still no dot after a reload
    await page.reload()
    await row.waitFor()
    await expect.poll(async () => (await (await page.request.get('/api/conversations/access-unseen')).json()).data.length).toBe(0)
    expect(await row.getByTestId('access-dot').count()).toBe(0)
  })
})
