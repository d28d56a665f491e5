import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { conversationOwner, insertConversation, makeUser, type TestUser } from '../api/admin-support'
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { type Account, launchBrowser, SCREENSHOTS, searchList, signIn, trackTabs } from '../support/browser'
import { Client, DEMO, uniqueEmail } from '../support/http'

// The admin panel in Chromium against the real built server, tablet first (1024×768): reading a worker's
// conversation (audited), reassigning it, a supervisor limited to their team, a worker kept out, user creation
// with the one-time password; plus the two-column (768) and drill-down (390) layouts.


let browser: Browser
let admin: Client
let supervisor: TestUser
let ana: TestUser
let beto: TestUser
let outsider: TestUser
let conversationId: string
const TITLE = 'Plan de mantención de turbinas'
const ANSWER = '## Pasos\n\n1. Revisar **rodamientos**\n2. Medir vibración\n\n<img src=x onerror="window.__pwned=1">\n\n```js\nconsole.log(1)\n```'

beforeAll(async () => {
  browser = await launchBrowser()
  admin = new Client()
  await admin.login(DEMO.admin.email, DEMO.admin.password)
  supervisor = await makeUser(admin, 'supervisor', null, 'e2e-sup')
  ana = await makeUser(admin, 'worker', supervisor.id, 'e2e-ana')
  beto = await makeUser(admin, 'worker', supervisor.id, 'e2e-beto')
  outsider = await makeUser(admin, 'worker', null, 'e2e-outsider')
  await admin.patch(`/api/admin/users/${ana.id}`, { fullName: 'Ana Prueba' })
  await admin.patch(`/api/admin/users/${beto.id}`, { fullName: 'Beto Prueba' })
  await admin.patch(`/api/admin/users/${outsider.id}`, { fullName: 'Olga Externa' })
  conversationId = await insertConversation(ana.id, {
    title: TITLE,
    messages: [
      { role: 'user', content: '¿Cómo mantengo las turbinas?' },
      { role: 'assistant', content: ANSWER, promptTokens: 20, completionTokens: 40, firstTokenMs: 350 },
    ],
  })
  await insertConversation(ana.id, { title: 'Otra conversación de Ana', messages: [{ role: 'user', content: 'Hola' }] })
  await insertConversation(outsider.id, { title: 'Conversación de otro equipo', messages: [{ role: 'user', content: 'Hola' }] })
})

afterAll(async () => { await browser?.close() })

// this server's Ollama is down on purpose: the chat page (where sign-in lands) gets 503 from /api/models
const OLLAMA_DOWN = /status of 503/
const tabs = trackTabs(() => browser, { allow: [OLLAMA_DOWN], clipboard: true })
afterEach(() => tabs.closeAll())

/** A fresh browser context signed in through the login page. */
async function open(account: Account, width = 1024, height = 768) {
  const { page } = await tabs.open({ width, height })
  await signIn(page, account)
  return page
}

/** The panel scrolls inside its columns, not the document: a viewport screenshot shows what a person sees. */
async function screenshot(page: Page, name: string) {
  mkdirSync(SCREENSHOTS, { recursive: true })
  await page.screenshot({ path: resolve(SCREENSHOTS, `${name}.png`) })
}

const userRow = (page: Page, user: { id: string }) => page.locator(`[data-testid="admin-user-row"][data-user-id="${user.id}"]`)
const conversationRow = (page: Page, id: string) => page.locator(`[data-testid="admin-conversation-row"][data-conversation-id="${id}"]`)
const visible = (page: Page, testId: string) => page.getByTestId(testId).isVisible()
/** An attribute of the element that has the keyboard focus. */
const focused = (page: Page, attribute: string) => page.evaluate(name => document.activeElement?.getAttribute(name), attribute)

async function findUser(page: Page, user: TestUser) {
  await searchList(page.getByTestId('admin-users').getByLabel('Buscar por nombre o correo'), user.email, page.getByTestId('admin-user-row'))
}

describe('admin panel at 1024×768 (tablet landscape)', () => {
  it('admin opens a worker\'s conversation (audited, Markdown rendered inert) and reassigns it; the columns and the API agree', async () => {
    const page = await open(DEMO.admin)
    await page.getByRole('navigation', { name: 'Navegación principal' }).getByRole('link', { name: 'Administración' }).click()
    await page.waitForURL(url => url.pathname === '/admin')
    for (const tab of ['panel', 'users', 'audit', 'prompts', 'model', 'stats']) await expect.poll(() => visible(page, `admin-tab-${tab}`)).toBe(true)
    // three columns side by side
    for (const column of ['admin-users', 'admin-conversations', 'admin-messages']) await expect.poll(() => visible(page, column)).toBe(true)

    await findUser(page, ana)
    await expect.poll(() => userRow(page, ana).textContent()).toMatch(/Trabajador.*2 conversaciones/s)
    await userRow(page, ana).click()
    await page.waitForURL(url => url.searchParams.get('user') === ana.id)
    await conversationRow(page, conversationId).waitFor()
    await expect.poll(() => conversationRow(page, conversationId).textContent()).toContain('2 mensajes')
    await conversationRow(page, conversationId).click()

    const messages = page.getByTestId('admin-messages')
    await messages.getByTestId('admin-message').nth(1).waitFor()
    await messages.getByRole('heading', { name: TITLE, level: 2 }).waitFor()
    await expect.poll(() => page.getByTestId('admin-audited').textContent()).toContain('Esta lectura queda registrada')
    await expect.poll(() => messages.getByTestId('admin-message').first().textContent()).toContain('¿Cómo mantengo las turbinas?')
    const answer = messages.locator('[data-testid="admin-message"][data-role="assistant"] [data-testid="admin-message-body"]')
    await answer.locator('strong', { hasText: 'rodamientos' }).waitFor()
    await answer.locator('.md-code').waitFor()
    expect(await answer.locator('img').count()).toBe(0)
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined()
    for (const column of ['admin-users', 'admin-conversations', 'admin-messages']) expect(await visible(page, column)).toBe(true)
    // the page itself never scrolls: each column does
    expect(await page.evaluate(() => document.documentElement.scrollHeight <= window.innerHeight)).toBe(true)
    await screenshot(page, 'admin-panel-1024')

    // the read is in the audit log
    const audit = await admin.get(`/api/admin/audit?action=conversation.read&targetId=${conversationId}`)
    expect(audit.body.total).toBeGreaterThanOrEqual(1)

    await page.getByTestId('admin-reassign').click()
    const dialog = page.getByRole('dialog')
    await searchList(dialog.getByLabel('Buscar usuario activo'), beto.email, dialog.getByTestId('admin-picker-option'))
    await dialog.getByTestId('admin-picker-option').filter({ hasText: 'Beto Prueba' }).click()
    await screenshot(page, 'admin-reassign-1024')
    await dialog.getByTestId('admin-reassign-next').click()
    await expect.poll(() => dialog.getByTestId('admin-reassign-summary').textContent()).toContain('pasará de Ana Prueba a Beto Prueba')
    await dialog.getByTestId('admin-reassign-confirm').click()
    await page.getByText('Conversación movida a Beto Prueba.').waitFor()

    // the columns follow: gone from Ana's list, message column empty, counts updated
    await conversationRow(page, conversationId).waitFor({ state: 'detached' })
    await expect.poll(() => page.getByTestId('admin-messages').textContent()).toContain('Elige una conversación para leerla.')
    await expect.poll(() => new URL(page.url()).searchParams.get('conversation')).toBeNull()
    await expect.poll(() => userRow(page, ana).textContent()).toContain('1 conversación')
    // and the API confirms the new owner
    const moved = await admin.get(`/api/conversations/${conversationId}`)
    expect(moved.body.userId).toBe(beto.id)
    expect(await conversationOwner(conversationId)).toBe(beto.id)

    await findUser(page, beto)
    await userRow(page, beto).click()
    await conversationRow(page, conversationId).waitFor()
    await expect.poll(() => userRow(page, beto).textContent()).toContain('1 conversación')
  })

  it('a supervisor sees only their team and no admin-only tabs; reassigning works within the team', async () => {
    const page = await open(supervisor)
    await page.goto('/admin')
    await userRow(page, ana).waitFor()
    await expect.poll(async () => (await page.getByTestId('admin-user-row').evaluateAll(rows => rows.map(r => r.getAttribute('data-user-id')))).sort())
      .toEqual([supervisor.id, ana.id, beto.id].sort())
    await page.getByTestId('admin-team-scope').waitFor()
    await expect.poll(() => visible(page, 'admin-tab-panel')).toBe(true)
    await expect.poll(() => visible(page, 'admin-tab-stats')).toBe(true)
    for (const tab of ['users', 'audit', 'prompts', 'model']) expect(await page.getByTestId(`admin-tab-${tab}`).count()).toBe(0)
    // the role filter has no admins to offer
    await expect.poll(() => page.getByTestId('admin-role-filter').locator('option').allTextContents()).toEqual(['Todos los roles', 'Supervisor', 'Trabajador'])
    // a search for someone outside the team finds nothing
    await page.getByTestId('admin-users').getByLabel('Buscar por nombre o correo').fill(outsider.email)
    await page.getByText('No hay usuarios que coincidan.').waitFor()
    await page.getByTestId('admin-users').getByLabel('Buscar por nombre o correo').fill('')
    await userRow(page, beto).waitFor()

    // reassign from Beto back to Ana: the picker only offers the team
    await userRow(page, beto).click()
    await conversationRow(page, conversationId).click()
    await page.getByTestId('admin-audited').waitFor()
    await page.getByTestId('admin-reassign').click()
    const dialog = page.getByRole('dialog')
    await dialog.getByTestId('admin-picker-option').first().waitFor()
    await expect.poll(() => dialog.getByTestId('admin-picker-option').count()).toBe(3)
    await expect(dialog.getByTestId('admin-picker-option').allTextContents()).resolves.not.toContain(expect.stringContaining('Olga'))
    await dialog.getByTestId('admin-picker-option').filter({ hasText: 'Ana Prueba' }).click()
    await dialog.getByTestId('admin-reassign-next').click()
    await dialog.getByTestId('admin-reassign-confirm').click()
    await page.getByText('Conversación movida a Ana Prueba.').waitFor()
    expect(await conversationOwner(conversationId)).toBe(ana.id)

    await page.getByTestId('admin-tab-stats').click()
    await page.waitForURL(url => url.pathname === '/admin/stats')
    await expect.poll(() => page.getByTestId('admin-chart').count()).toBe(4)
    await page.getByText('Datos de tu equipo.').waitFor()
    await screenshot(page, 'admin-stats-supervisor-1024')

    // admin-only pages send a supervisor away, and the API says 403 anyway
    await page.goto('/admin/audit')
    await page.waitForURL(url => url.pathname === '/chat' || url.pathname === '/chat/')
    const status = await page.evaluate(() => fetch('/api/admin/audit').then(r => r.status))
    expect(status).toBe(403)
  })

  it('works from the keyboard alone: Tab into the users, arrows move, Enter opens, Escape closes the reassign dialog', async () => {
    const page = await open(supervisor)
    await page.goto('/admin')
    await userRow(page, ana).waitFor()
    await page.getByTestId('admin-users').getByLabel('Buscar por nombre o correo').focus()
    await page.keyboard.press('Tab')
    await expect.poll(() => focused(page, 'data-testid')).toBe('admin-role-filter')
    await page.keyboard.press('Tab')
    await expect.poll(() => focused(page, 'data-testid')).toBe('admin-user-row')
    // rows are sorted by name: Ana, Beto, the supervisor
    await expect.poll(() => focused(page, 'data-user-id')).toBe(ana.id)
    await page.keyboard.press('ArrowDown')
    await expect.poll(() => focused(page, 'data-user-id')).toBe(beto.id)
    await page.keyboard.press('ArrowUp')
    await expect.poll(() => focused(page, 'data-user-id')).toBe(ana.id)
    await page.keyboard.press('Enter')
    await page.waitForURL(url => url.searchParams.get('user') === ana.id)
    await conversationRow(page, conversationId).waitFor()
    await conversationRow(page, conversationId).focus()
    await page.keyboard.press('Enter')
    await page.getByTestId('admin-message').first().waitFor()
    await page.keyboard.press('Tab')
    await expect.poll(() => focused(page, 'data-testid')).toBe('admin-reassign')
    await page.keyboard.press('Enter')
    const dialog = page.getByRole('dialog')
    await dialog.getByTestId('admin-picker-option').first().waitFor()
    await expect.poll(() => focused(page, 'type')).toBe('search')
    await page.keyboard.press('Escape')
    await expect.poll(() => dialog.isVisible()).toBe(false)
    await expect.poll(() => focused(page, 'data-testid')).toBe('admin-reassign')
    expect(await conversationOwner(conversationId)).toBe(ana.id)
  })

  it('a worker never sees the admin entry and is redirected away from /admin', async () => {
    const page = await open(outsider)
    // counted once what would hold the link is on screen: the main navigation, then the open user menu
    await page.getByRole('navigation', { name: 'Navegación principal' }).getByRole('link', { name: 'Chat' }).waitFor()
    await expect(page.getByRole('link', { name: 'Administración' }).count()).resolves.toBe(0)
    await page.getByTestId('user-menu').click()
    await page.getByRole('button', { name: 'Cerrar sesión' }).waitFor()
    await expect(page.getByRole('link', { name: 'Administración' }).count()).resolves.toBe(0)
    await page.goto('/admin')
    await page.waitForURL(url => url.pathname.startsWith('/chat'))
    await page.goto('/admin/users')
    await page.waitForURL(url => url.pathname.startsWith('/chat'))
    expect(await page.getByTestId('admin-users').count()).toBe(0)
    const status = await page.evaluate(() => fetch('/api/admin/users').then(r => r.status))
    expect(status).toBe(403)
  })

  it('admin creates a user and sees the generated password once; it signs in; guard rails are explained', async () => {
    const page = await open(DEMO.admin)
    await page.goto('/admin/users')
    await page.getByTestId('admin-create-user').click()
    const dialog = page.getByRole('dialog')
    const email = uniqueEmail('e2e-new')
    await dialog.getByLabel('Correo electrónico').fill(email)
    await dialog.getByLabel('Nombre completo').fill('Nueva Persona')
    await dialog.getByLabel('Supervisor').selectOption(supervisor.id)
    await dialog.getByTestId('admin-create-submit').click()
    const secret = dialog.getByTestId('admin-one-time-value')
    await secret.waitFor()
    const password = (await secret.textContent())!.trim()
    expect(password).toMatch(/^\S{16}$/)
    await dialog.getByText('Se muestra una sola vez', { exact: false }).waitFor()
    await screenshot(page, 'admin-user-created-1024')
    await dialog.getByTestId('admin-create-done').click()
    await dialog.waitFor({ state: 'hidden' })

    const created = new Client()
    const user = await created.login(email, password)
    expect(user).toMatchObject({ fullName: 'Nueva Persona', role: 'worker', supervisorId: supervisor.id })

    // the list shows the new user; the password is nowhere on the page any more
    await page.getByLabel('Buscar por nombre o correo').fill(email)
    await page.locator('[data-testid="admin-manage-row"]', { hasText: 'Nueva Persona' }).waitFor()
    expect(await page.getByText(password).count()).toBe(0)

    // an admin cannot deactivate themself: the API's refusal is shown in words
    await searchList(page.getByLabel('Buscar por nombre o correo'), DEMO.admin.email, page.getByTestId('admin-manage-row'))
    const me = page.locator('[data-testid="admin-manage-row"]', { hasText: DEMO.admin.email })
    await me.waitFor()
    await me.getByTestId('admin-edit-user').click()
    await dialog.getByTestId('admin-deactivate').click()
    await dialog.getByTestId('admin-confirm-action-go').click()
    await expect.poll(() => dialog.getByTestId('admin-edit-error').textContent()).toContain('No puedes desactivarte')
    const still = await admin.get('/api/auth/me')
    expect(still.body.active).toBe(true)
  })
})

describe('admin panel on other screens', () => {
  it('768×1024 shows two columns with a back control; 390×844 drills down one column at a time', async () => {
    const tablet = await open(DEMO.admin, 768, 1024)
    await tablet.goto(`/admin?user=${ana.id}`)
    await conversationRow(tablet, conversationId).waitFor()
    await expect.poll(() => visible(tablet, 'admin-users')).toBe(true)
    await expect.poll(() => visible(tablet, 'admin-conversations')).toBe(true)
    expect(await visible(tablet, 'admin-messages')).toBe(false)
    await conversationRow(tablet, conversationId).click()
    await tablet.getByTestId('admin-message').first().waitFor()
    await expect.poll(() => visible(tablet, 'admin-users')).toBe(false)
    await expect.poll(() => visible(tablet, 'admin-conversations')).toBe(true)
    await expect.poll(() => visible(tablet, 'admin-messages')).toBe(true)
    await screenshot(tablet, 'admin-panel-768')
    await tablet.getByTestId('admin-conversations').getByTestId('column-back').click()
    await expect.poll(() => visible(tablet, 'admin-users')).toBe(true)
    await expect.poll(() => visible(tablet, 'admin-messages')).toBe(false)

    const phone = await open(DEMO.admin, 390, 844)
    await phone.goto('/admin')
    await findUser(phone, ana)
    await expect.poll(() => visible(phone, 'admin-conversations')).toBe(false)
    // a phone mounts a column when it is first needed: the users alone at first, the messages once a conversation is picked
    expect(await phone.getByTestId('admin-conversations').count()).toBe(0)
    expect(await phone.getByTestId('admin-messages').count()).toBe(0)
    await screenshot(phone, 'admin-users-390')
    await userRow(phone, ana).click()
    await conversationRow(phone, conversationId).waitFor()
    expect(await phone.getByTestId('admin-messages').count()).toBe(0)
    await expect.poll(() => visible(phone, 'admin-users')).toBe(false)
    // focus follows to the column that appeared
    await expect.poll(() => phone.evaluate(() => document.activeElement?.textContent)).toBe('Conversaciones de Ana Prueba')
    await conversationRow(phone, conversationId).click()
    await phone.getByTestId('admin-message').first().waitFor()
    await expect.poll(() => visible(phone, 'admin-conversations')).toBe(false)
    await screenshot(phone, 'admin-messages-390')
    // touch targets: every button and link in the panel is at least 44 px tall
    const small = await phone.locator('main button:visible, main a:visible, main select:visible, main input:visible').evaluateAll(els =>
      // (the query and this function are two evaluations: a re-render in between, e.g. an answer's code coloured at idle,
      // leaves detached elements, which are on no screen)
      els.filter(el => el.isConnected && !el.closest('.md') && el.getBoundingClientRect().height < 44).map(el => el.outerHTML.slice(0, 80)))
    expect(small).toEqual([])
    await phone.getByTestId('admin-messages').getByTestId('column-back').click()
    await conversationRow(phone, conversationId).waitFor()
    await expect.poll(() => visible(phone, 'admin-messages')).toBe(false)
    await phone.getByTestId('admin-conversations').getByTestId('column-back').click()
    await expect.poll(() => visible(phone, 'admin-users')).toBe(true)
    await expect.poll(() => visible(phone, 'admin-conversations')).toBe(false)
    // the browser's Back walks the drill-down too
    await phone.goBack()
    await expect.poll(() => visible(phone, 'admin-conversations')).toBe(true)

    // the other tabs, for a human to look at
    await phone.goto('/admin/users')
    await phone.locator('[data-testid="admin-manage-row"]').first().waitFor()
    await screenshot(phone, 'admin-users-manage-390')
    await phone.goto('/admin/stats')
    await expect.poll(() => phone.getByTestId('admin-chart').count()).toBe(4)
    // numbers on the charts, and usage per person and per team
    await expect.poll(() => phone.getByTestId('admin-chart-value').count()).toBeGreaterThan(0)
    await expect.poll(() => phone.getByTestId('admin-stats-people').textContent()).toContain('Ana Prueba')
    expect(await phone.getByTestId('admin-stats-people').getByRole('link', { name: 'Ana Prueba' }).getAttribute('href')).toBe(`/admin?user=${ana.id}`)
    await phone.getByTestId('admin-stats-teams').waitFor()
    // the tab row scrolls sideways; the current tab is brought into sight
    await expect.poll(async () => (await phone.getByTestId('admin-tab-stats').boundingBox())?.x ?? -1).toBeGreaterThanOrEqual(0)
    await expect.poll(() => phone.getByTestId('admin-tab-stats').evaluate(el => el.getBoundingClientRect().right <= window.innerWidth)).toBe(true)
    await screenshot(phone, 'admin-stats-390')
  })

  it('a name in the audit log opens that person\'s account; the address keeps it open across a reload, off the list\'s page too', async () => {
    const page = await open(DEMO.admin)
    await page.goto('/admin/audit')
    // "Administradora Demo modificó la cuenta de Ana Prueba": the name given to her before the tests
    await page.getByTestId('admin-audit-action').selectOption('admin.user_updated')
    await page.getByTestId('admin-audit-apply').click()
    await page.getByTestId('admin-audit-sentence').filter({ hasText: 'modificó la cuenta de Ana Prueba' }).first().getByRole('link', { name: 'Ana Prueba' }).click()
    await page.waitForURL(url => url.pathname === '/admin/users' && url.searchParams.get('id') === ana.id)
    const dialog = page.getByRole('dialog')
    await expect.poll(() => dialog.getByTestId('admin-edit-name').locator('input').inputValue()).toBe('Ana Prueba')
    expect(await dialog.textContent()).toContain(ana.email)
    await page.reload()
    await expect.poll(() => page.getByRole('dialog').getByTestId('admin-edit-name').locator('input').inputValue()).toBe('Ana Prueba')
    // closing the dialog takes the person out of the address
    await page.keyboard.press('Escape')
    await page.waitForURL(url => url.pathname === '/admin/users' && !url.searchParams.has('id'))
    await expect.poll(() => page.getByRole('dialog').count()).toBe(0)

    // someone the list does not show (filtered to admins) still opens, and an action in the dialog shows its result
    await page.goto(`/admin/users?role=admin&id=${beto.id}`)
    await expect.poll(() => page.getByRole('dialog').getByTestId('admin-edit-name').locator('input').inputValue()).toBe('Beto Prueba')
    expect(await page.getByTestId('admin-manage-row').filter({ hasText: beto.email }).count()).toBe(0)
    await page.getByRole('dialog').getByTestId('admin-deactivate').click()
    await page.getByRole('dialog').getByTestId('admin-confirm-action-go').click()
    await page.getByRole('dialog').getByTestId('admin-reactivate').waitFor()
    await page.getByRole('dialog').getByTestId('admin-reactivate').click()
    await page.getByRole('dialog').getByTestId('admin-deactivate').waitFor()
    expect((await admin.get(`/api/admin/users/${beto.id}`)).body.active).toBe(true)

    // nobody's id: said in words, and the address forgets it (a tab of its own: the browser logs the 404)
    const { page: other } = await tabs.open({ width: 1024, height: 768, allow: [/status of 404/] })
    await signIn(other, DEMO.admin)
    await other.goto(`/admin/users?id=00000000-0000-7000-8000-000000000000`)
    await other.locator('.ui-toast--error').filter({ hasText: 'Esa persona ya no existe o no tienes acceso a su cuenta.' }).waitFor()
    await other.waitForURL(url => url.pathname === '/admin/users' && !url.searchParams.has('id'))
    expect(await other.getByRole('dialog').count()).toBe(0)
  })

  it('audit, prompts and model tabs at 1024×768: filter and export the audit log, keep one default prompt, see the settings', async () => {
    const page = await open(DEMO.admin)
    await page.goto('/admin/audit')
    await page.getByTestId('admin-audit-row').first().waitFor()
    await page.getByTestId('admin-audit-action').selectOption('conversation.reassigned')
    await page.getByTestId('admin-audit-apply').click()
    await expect.poll(async () => new Set(await page.getByTestId('admin-audit-row').evaluateAll(rows => rows.map(r => r.getAttribute('data-action'))))).toEqual(new Set(['conversation.reassigned']))
    // both reassignments so far: the admin's and the supervisor's; picking the supervisor leaves theirs
    await expect.poll(() => page.getByTestId('admin-audit-row').count()).toBe(2)
    await page.getByTestId('admin-audit-actor').click()
    await searchList(page.getByRole('dialog').getByLabel('Buscar usuario'), supervisor.email, page.getByRole('dialog').getByTestId('admin-picker-option'))
    await page.getByRole('dialog').getByTestId('admin-picker-option').filter({ hasText: 'Prueba e2e-sup' }).click()
    await expect.poll(() => page.getByTestId('admin-audit-row').count()).toBe(1)
    // a sentence with names and the title, each a link into the panel (no raw ids or meta keys)
    await expect.poll(() => page.getByTestId('admin-audit-sentence').textContent()).toBe(`Prueba e2e-sup reasignó la conversación «${TITLE}» de Beto Prueba a Ana Prueba`)
    const sentence = page.getByTestId('admin-audit-sentence')
    // a person's name leads to their account (the admin manages accounts), the title to the conversation
    expect(await sentence.getByRole('link', { name: 'Ana Prueba' }).getAttribute('href')).toBe(`/admin/users?id=${ana.id}`)
    expect(await sentence.getByRole('link', { name: `«${TITLE}»` }).getAttribute('href')).toBe(`/admin?user=${ana.id}&conversation=${conversationId}`)
    expect(await page.getByTestId('admin-audit-row').textContent()).not.toMatch(/from:|to:|ownerId/)
    const exportLink = page.getByTestId('admin-audit-export')
    await expect.poll(() => exportLink.getAttribute('href')).toBe(`/api/admin/audit.csv?actorId=${supervisor.id}&action=conversation.reassigned`)
    const href = await exportLink.getAttribute('href')
    const csv = await page.evaluate(url => fetch(url).then(async r => ({ status: r.status, type: r.headers.get('content-type'), text: await r.text() })), href!)
    expect(csv.status).toBe(200)
    expect(csv.text.split('\r\n')[0]).toContain('action')
    expect(csv.text.trim().split('\r\n')).toHaveLength(2)
    expect(csv.text).toContain(conversationId)
    await screenshot(page, 'admin-audit-1024')

    // report events read as sentences: the report's title links to it, statuses in words, no raw codes or ids
    const report = (await ana.client.post('/api/reports', { title: 'Fuga en la sala de bombas', content: 'Hay agua en el piso.' })).body
    await supervisor.client.post(`/api/reports/${report.id}/comments`, { content: 'Voy a revisar', status: 'in_progress' })
    // (still filtered to the supervisor's events)
    await page.getByTestId('admin-audit-action').selectOption('report.*')
    await page.getByTestId('admin-audit-apply').click()
    const reportRows = page.locator(`[data-testid="admin-audit-row"]`).filter({ hasText: 'Fuga en la sala de bombas' })
    await expect.poll(() => reportRows.count()).toBe(2)
    const status = reportRows.and(page.locator('[data-action="report.status"]'))
    expect(await status.getByTestId('admin-audit-sentence').textContent()).toBe('Prueba e2e-sup cambió el estado del reporte «Fuga en la sala de bombas» de Abierto a En curso')
    // for staff the title opens the report in the staff queue (walk 4: it led to the admin's own "Mis reportes" page,
    // someone else's report beside "No has enviado reportes")
    expect(await status.getByRole('link', { name: '«Fuga en la sala de bombas»' }).getAttribute('href')).toBe(`/admin/reports?id=${report.id}`)
    const comment = reportRows.and(page.locator('[data-action="report.comment"]'))
    expect(await comment.getByTestId('admin-audit-sentence').textContent()).toBe('Prueba e2e-sup comentó el reporte «Fuga en la sala de bombas» de Ana Prueba')
    expect(await reportRows.allTextContents()).not.toContainEqual(expect.stringMatching(/in_progress|commentId|reporterId|[0-9a-f]{8}-[0-9a-f]{4}-/))
    await screenshot(page, 'admin-audit-reports-1024')
    await status.getByRole('link', { name: '«Fuga en la sala de bombas»' }).click()
    await page.waitForURL(url => url.pathname === '/admin/reports' && url.searchParams.get('id') === report.id)
    await page.getByRole('heading', { name: 'Fuga en la sala de bombas' }).waitFor()
    await page.goBack()
    await page.waitForURL(url => url.pathname === '/admin/audit')
    await page.getByTestId('admin-audit-row').first().waitFor()

    // a failed sign-in says why in words
    expect((await new Client().post('/api/auth/login', { email: ana.email, password: 'no-es-la-clave' })).status).toBe(401)
    await page.getByRole('button', { name: 'Quitar usuario' }).click()
    await page.getByTestId('admin-audit-action').selectOption('auth.login_failed')
    await page.getByTestId('admin-audit-apply').click()
    const failed = page.getByTestId('admin-audit-row').filter({ hasText: 'Ana Prueba' }).first()
    await expect.poll(() => failed.textContent()).toContain('Motivo: contraseña incorrecta')

    await page.getByTestId('admin-tab-prompts').click()
    await page.getByTestId('admin-prompt').first().waitFor()
    await expect.poll(() => page.locator('[data-testid="admin-prompt"][data-default]').count()).toBe(1)
    await screenshot(page, 'admin-prompts-1024')

    await page.getByTestId('admin-tab-model').click()
    // this test server's Ollama is down: the model name is typed instead of picked
    await page.getByText('No se pudo consultar la lista de modelos', { exact: false }).waitFor()
    await expect.poll(() => page.getByTestId('admin-setting-temperature').locator('input').inputValue()).toMatch(/^\d/)
    await screenshot(page, 'admin-model-1024')
  })
})
