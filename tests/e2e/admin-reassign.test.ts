import type { Browser, Page } from 'playwright-core'
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { conversationOwner, insertConversation, makeUser, type TestUser } from '../api/admin-support'
import { launchBrowser, SCREENSHOTS, settled, signIn, trackTabs } from '../support/browser'
import { Client, DEMO } from '../support/http'

// Issue 13.3: reassign is reachable on a phone (a row menu in the conversations column, and the message reader),
// and the users column is dense enough for 10+ people on a 1280×800 screen.

let browser: Browser
const tabs = trackTabs(() => browser, { allow: [/status of 503/] })
let supervisor: TestUser
let workers: TestUser[]

beforeAll(async () => {
  browser = await launchBrowser()
  const admin = new Client()
  await admin.login(DEMO.admin.email, DEMO.admin.password)
  supervisor = await makeUser(admin, 'supervisor', null, 'e2e-dense-sup')
  workers = []
  for (let i = 0; i < 11; i++) workers.push(await makeUser(admin, 'worker', supervisor.id, `e2e-dense-${i}`))
  await admin.patch(`/api/admin/users/${workers[0]!.id}`, { fullName: 'Carla Turno' })
  await admin.patch(`/api/admin/users/${workers[1]!.id}`, { fullName: 'Diego Turno' })
})

afterAll(async () => { await browser?.close() })

// this server's Ollama is down on purpose: the chat page where sign-in lands gets 503 from /api/models
afterEach(() => tabs.closeAll())

async function open(width: number, height: number) {
  const { page } = await tabs.open({ width, height })
  await signIn(page, supervisor)
  return page
}

async function shot(page: Page, name: string) {
  mkdirSync(SCREENSHOTS, { recursive: true })
  await settled(page)
  await page.screenshot({ path: resolve(SCREENSHOTS, `${name}.png`) })
}

const conversationRow = (page: Page, id: string) => page.locator(`[data-testid="admin-conversation-row"][data-conversation-id="${id}"]`)

async function reassignTo(page: Page, name: string) {
  const dialog = page.getByRole('dialog')
  await dialog.getByTestId('admin-picker-option').filter({ hasText: name }).click()
  await dialog.getByTestId('admin-reassign-next').click()
  await dialog.getByTestId('admin-reassign-confirm').click()
  await dialog.waitFor({ state: 'hidden' })
  // the toast of an earlier move may still be showing: any one of them will do
  await page.getByText(`Conversación movida a ${name}.`).first().waitFor()
}

describe('reassign on a phone', () => {
  it('360 px: from the row menu without opening the conversation, then from the message reader', async () => {
    const carla = workers[0]!
    const first = await insertConversation(carla.id, { title: 'Turno de noche', messages: [{ role: 'user', content: 'Informe' }] })
    const second = await insertConversation(carla.id, { title: 'Turno de día', messages: [{ role: 'user', content: 'Informe' }] })
    const page = await open(360, 740)
    await page.goto(`/admin?user=${carla.id}`)
    await conversationRow(page, first).waitFor()

    const row = conversationRow(page, first).locator('xpath=..')
    await row.getByTestId('admin-row-menu').click()
    await row.getByTestId('admin-row-menu-reassign').waitFor()
    await shot(page, 'admin-row-menu-360')
    await row.getByTestId('admin-row-menu-reassign').click()
    // still in the conversations column: the reassign dialog opened without a jump to the messages
    expect(new URL(page.url()).searchParams.get('conversation')).toBeNull()
    await reassignTo(page, 'Diego Turno')
    await expect.poll(() => conversationOwner(first)).toBe(workers[1]!.id)

    await conversationRow(page, second).click()
    await page.waitForURL(url => url.searchParams.get('conversation') === second)
    await page.getByTestId('admin-reassign-reader').waitFor()
    expect(await page.getByTestId('admin-reassign-reader').isVisible()).toBe(true)
    await shot(page, 'admin-reader-reassign-360')
    await page.getByTestId('admin-reassign-reader').click()
    await reassignTo(page, 'Diego Turno')
    await expect.poll(() => conversationOwner(second)).toBe(workers[1]!.id)
  })

  it('the reader offers reassign at 768 and 1280 too', async () => {
    const carla = workers[0]!
    const id = await insertConversation(carla.id, { title: 'Bitácora de subestación', messages: [{ role: 'user', content: 'Lectura' }] })
    for (const [width, height] of [[768, 1024], [1280, 800]] as const) {
      const page = await open(width, height)
      await page.goto(`/admin?user=${carla.id}&conversation=${id}`)
      await page.getByTestId('admin-reassign-reader').waitFor()
      await shot(page, `admin-reader-reassign-${width}`)
    }
  })
})

describe('after a move, each question keeps its writer', () => {
  it('the reader names the previous owner on their questions, and the new owner\'s chat says whose they are', async () => {
    const [carla, diego] = [workers[0]!, workers[1]!]
    const id = await insertConversation(carla.id, { title: 'Relevo de turno', messages: [{ role: 'user', content: 'Pregunta de Carla' }, { role: 'assistant', content: 'Respuesta' }] })
    expect((await supervisor.client.patch(`/api/admin/conversations/${id}/reassign`, { targetUserId: diego.id })).status).toBe(200)

    const reader = await open(1280, 800)
    await reader.goto(`/admin?user=${diego.id}&conversation=${id}`)
    const question = reader.locator('[data-testid="admin-message"][data-role="user"]')
    await question.waitFor()
    expect(await question.locator('.admin-message__author').textContent()).toBe('Carla Turno')
    expect(await reader.getByText('De Diego Turno').count()).toBeGreaterThan(0)

    const { page } = await tabs.open({ width: 360, height: 740 })
    await signIn(page, diego)
    await page.goto(`/chat/${id}`)
    const author = page.getByTestId('message-author')
    await author.waitFor()
    expect(await author.textContent()).toBe('Escrito por Carla Turno')
    await shot(page, 'chat-question-by-previous-owner-360')
  })
})

describe('users column density', () => {
  it('1280×800 shows at least 10 people at once, each row two lines', async () => {
    const page = await open(1280, 800)
    await page.goto('/admin')
    const rows = page.getByTestId('admin-user-row')
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(12)
    const fullyVisible = await page.evaluate(() => {
      const column = document.querySelector('[data-testid="admin-users"]')!
      const rows = [...column.querySelectorAll('[data-testid="admin-user-row"]')] as HTMLElement[]
      const scroller = rows[0]!.closest('ul')!.parentElement!
      const box = scroller.getBoundingClientRect()
      const bottom = Math.min(box.bottom, window.innerHeight)
      return rows.filter((r) => { const b = r.getBoundingClientRect(); return b.top >= box.top - 1 && b.bottom <= bottom + 1 }).length
    })
    expect(fullyVisible).toBeGreaterThanOrEqual(10)
    const height = (await rows.first().boundingBox())!.height
    expect(height).toBeLessThan(56)
    await shot(page, 'admin-users-dense-1280')
  })
})
