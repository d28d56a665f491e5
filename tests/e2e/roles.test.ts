import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { insertConversation, makeUser, type TestUser } from '../api/admin-support'
import { type Account, launchBrowser, screenshot, searchList, signIn, trackTabs } from '../support/browser'
import { Client, DEMO, uniqueEmail } from '../support/http'

// Roles as data in the browser: an admin makes an "Auditor" role and gives it to a worker, who then gets the
// audit tab and everyone's conversations but no reassign button; an admin-created account is held on the
// change-password screen until the person picks their own password.

let browser: Browser
let admin: Client
let worker: TestUser
let other: TestUser
let otherConversation: string
const OLLAMA_DOWN = /status of 503/
const tabs = trackTabs(() => browser, { width: 1024, height: 768, allow: [OLLAMA_DOWN] })

beforeAll(async () => {
  browser = await launchBrowser()
  admin = new Client()
  await admin.login(DEMO.admin.email, DEMO.admin.password)
  worker = await makeUser(admin, 'worker', null, 'e2e-auditor')
  other = await makeUser(admin, 'worker', null, 'e2e-audited')
  await admin.patch(`/api/admin/users/${other.id}`, { fullName: 'Olga Auditada' })
  otherConversation = await insertConversation(other.id, { title: 'Inventario de repuestos', messages: [{ role: 'user', content: '¿Cuántos quedan?' }, { role: 'assistant', content: 'Quedan doce.' }] })
})

afterAll(async () => { await browser?.close() })

afterEach(() => tabs.closeAll())

/** A fresh tab signed in as `account`, on `landing`. */
async function signedIn(account: Account, landing = '/chat') {
  const { page } = await tabs.open()
  await signIn(page, account, { landing })
  return page
}

const userRow = (page: Page, user: { id: string }) => page.locator(`[data-testid="admin-user-row"][data-user-id="${user.id}"]`)
const conversationRow = (page: Page, id: string) => page.locator(`[data-testid="admin-conversation-row"][data-conversation-id="${id}"]`)

describe('custom roles', () => {
  it('an admin creates an Auditor role and assigns it; the worker sees the audit tab and others\' conversations, never a reassign button', async () => {
    const roleName = `Auditor ${Date.now().toString(36)}`
    const page = await signedIn(DEMO.admin)
    await page.goto('/admin/roles')
    await page.locator('[data-testid="admin-role"][data-role="admin"]').waitFor()
    await page.getByTestId('admin-role-create').click()
    const dialog = page.getByRole('dialog')
    await dialog.getByTestId('admin-role-name').locator('input').fill(roleName)
    // the permissions are explained in Spanish
    await dialog.getByText('Leer todas las conversaciones').waitFor()
    await dialog.getByTestId('admin-role-permission-audit.read').check()
    await dialog.getByTestId('admin-role-permission-conversations.read.all').check()
    await screenshot(page, 'admin-role-dialog-1024')
    await dialog.getByTestId('admin-role-save').click()
    await dialog.waitFor({ state: 'hidden' })
    const row = page.locator(`[data-testid="admin-role"][data-role="${roleName}"]`)
    await expect.poll(() => row.getByTestId('admin-role-count').textContent()).toBe('0')

    // assign it in the user dialog
    await page.getByTestId('admin-tab-users').click()
    await searchList(page.getByLabel('Buscar por nombre o correo'), worker.email, page.getByTestId('admin-manage-row'))
    const manageRow = page.locator('[data-testid="admin-manage-row"]', { hasText: worker.email })
    await manageRow.getByTestId('admin-edit-user').click()
    await dialog.getByTestId(`admin-user-role-${roleName}`).check()
    await dialog.getByTestId('admin-user-roles-save').click()
    await expect.poll(async () => (await admin.get(`/api/admin/users/${worker.id}`)).body.roles).toEqual([roleName])
    await screenshot(page, 'admin-user-roles-1024')

    // the worker, already signed in or not, gets it on their next request
    const auditor = await signedIn(worker)
    await auditor.goto('/admin')
    await auditor.getByTestId('admin-tab-audit').waitFor()
    expect(await auditor.getByTestId('admin-tab-users').count()).toBe(0)
    expect(await auditor.getByTestId('admin-tab-roles').count()).toBe(0)
    await searchList(auditor.getByLabel('Buscar por nombre o correo').first(), other.email, auditor.getByTestId('admin-user-row'))
    await userRow(auditor, other).click()
    await conversationRow(auditor, otherConversation).click()
    await auditor.getByText('Quedan doce.').waitFor()
    expect(await auditor.getByTestId('admin-reassign').count()).toBe(0)
    await auditor.getByTestId('admin-tab-audit').click()
    await auditor.waitForURL(url => url.pathname === '/admin/audit')
    await screenshot(auditor, 'admin-auditor-1024')
  })
})

describe('the roles list', () => {
  it('on a 360 px phone fits the screen: no sideways page, a custom role\'s Editar and Eliminar in view; every row\'s cells share one bottom line', async () => {
    // walk 4: at 360 px the page scrolled sideways by 17 px (the hidden "Acciones" header sat outside the table's
    // scroller) and a custom role's buttons were off screen inside it; at 1280 px the actions cell (a flex <td>)
    // drew its bottom border a pixel off the rest of its row
    const name = `Bodega ${Date.now().toString(36)}`
    expect((await admin.post('/api/admin/roles', { name, description: 'Gestiona los reportes de la bodega central', permissions: ['reports.manage'] })).status).toBe(201)
    const { page } = await tabs.open({ width: 360, height: 740 })
    await signIn(page, DEMO.admin)
    await page.goto('/admin/roles')
    const row = page.locator(`[data-testid="admin-role"][data-role="${name}"]`)
    await row.waitFor()
    await screenshot(page, 'admin-roles-360')
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360)
    // the table needs no sideways scrolling of its own either: nothing is cut at its edge
    const table = page.getByRole('region', { name: 'Roles', exact: true })
    expect(await table.evaluate(el => el.scrollWidth - el.clientWidth)).toBeLessThanOrEqual(0)
    const edge = (await table.boundingBox())!
    for (const part of [row.getByTestId('admin-role-edit'), row.getByTestId('admin-role-delete'), page.locator('[data-testid="admin-role"][data-role="admin"] td').last()]) {
      const box = (await part.boundingBox())!
      expect(box.x, 'left edge in view').toBeGreaterThanOrEqual(edge.x)
      expect(box.x + box.width, 'right edge in view').toBeLessThanOrEqual(edge.x + edge.width + 0.5)
    }
    // the description is still read, under the name
    await expect.poll(() => row.innerText()).toContain('Gestiona los reportes de la bodega central')

    const bottoms = (r: typeof row) => r.evaluate(tr => [...tr.children].filter(cell => cell.getClientRects().length).map(cell => Math.round(cell.getBoundingClientRect().bottom)))
    for (const width of [360, 1280]) {
      await page.setViewportSize({ width, height: 800 })
      for (const r of [row, page.locator('[data-testid="admin-role"][data-role="supervisor"]')]) {
        const cells = await bottoms(r)
        expect(new Set(cells).size, `cells of one row end together at ${width} px: ${cells}`).toBe(1)
      }
    }
  })
})

describe('who holds a role', () => {
  it('a role\'s count in Admin → Roles opens Admin → Usuarios filtered to its holders; the filter shows and can be removed', async () => {
    const name = `Turno noche ${Date.now().toString(36)}`
    const created = await admin.post('/api/admin/roles', { name, permissions: ['reports.manage'] })
    expect(created.status).toBe(201)
    const roleId = created.body.id as string
    const holders = [await makeUser(admin, 'worker', null, 'e2e-holder'), await makeUser(admin, 'supervisor', null, 'e2e-holder')]
    for (const user of holders) expect((await admin.put(`/api/admin/users/${user.id}/roles`, { roleIds: [roleId] })).status).toBe(200)

    const page = await signedIn(DEMO.admin)
    await page.goto('/admin/roles')
    const row = page.locator(`[data-testid="admin-role"][data-role="${name}"]`)
    const count = row.getByRole('link', { name: `Ver quién tiene el rol ${name}: 2` })
    await expect.poll(() => count.textContent()).toBe('2')
    await count.click()
    await page.waitForURL(url => url.pathname === '/admin/users' && url.searchParams.get('roleId') === roleId)
    const filter = page.getByTestId('admin-users-role-filter')
    await expect.poll(() => filter.textContent()).toContain(`Con el rol ${name}`)
    const rows = page.getByTestId('admin-manage-row')
    const shown = () => rows.evaluateAll(els => els.map(el => el.getAttribute('data-user-id')).sort())
    await expect.poll(shown).toEqual(holders.map(u => u.id).sort())
    await expect.poll(() => page.getByText('2 usuarios', { exact: true }).count()).toBe(1)
    await screenshot(page, 'admin-users-role-filter-1024')

    // the address keeps it: a reload shows the same filter and list
    await page.reload()
    await expect.poll(() => filter.textContent()).toContain(`Con el rol ${name}`)
    await expect.poll(shown).toEqual(holders.map(u => u.id).sort())

    // removed: gone from the page and the address, and everyone is listed again
    await filter.getByTestId('admin-users-role-filter-clear').click()
    await expect.poll(() => filter.count()).toBe(0)
    await page.waitForURL(url => url.pathname === '/admin/users' && !url.searchParams.has('roleId'))
    await expect.poll(async () => (await shown()).length).toBeGreaterThan(2)

    // a built-in role's count sets the role select instead
    await page.goto('/admin/roles')
    await page.locator('[data-testid="admin-role"][data-role="supervisor"]').getByTestId('admin-role-count').click()
    await page.waitForURL(url => url.pathname === '/admin/users' && url.searchParams.get('role') === 'supervisor')
    await expect.poll(() => page.getByTestId('admin-role-filter').inputValue()).toBe('supervisor')
    // the list is the supervisors' first page, in the API's order (an unfiltered list would start with others)
    await expect.poll(async () => {
      const ids = await rows.evaluateAll(els => els.map(el => el.getAttribute('data-user-id')))
      if (!ids.length) return false
      const listed = await admin.get(`/api/admin/users?role=supervisor&limit=${ids.length}`)
      return JSON.stringify(ids) === JSON.stringify(listed.body.data.map((u: any) => u.id))
    }).toBe(true)
    expect(await filter.count()).toBe(0)
  })
})

describe('users.manage without an admin\'s other permissions', () => {
  it('a supervisor with it is offered only the roles they may give: Trabajador and Supervisor, never Administrador; an admin sees all three', async () => {
    const manager = await makeUser(admin, 'supervisor', null, 'e2e-manager')
    const role = await admin.post('/api/admin/roles', { name: `Gestor ${Date.now().toString(36)}`, permissions: ['users.manage'] })
    expect((await admin.put(`/api/admin/users/${manager.id}/roles`, { roleIds: [role.body.id] })).status).toBe(200)
    const options = async (page: Page) => {
      await page.goto('/admin/users')
      await page.getByTestId('admin-create-user').click()
      const select = page.getByRole('dialog').getByTestId('admin-new-role')
      await select.waitFor()
      return select.locator('option').allTextContents()
    }
    expect(await options(await signedIn(manager))).toEqual(['Trabajador', 'Supervisor'])
    expect(await options(await signedIn(DEMO.admin))).toEqual(['Trabajador', 'Supervisor', 'Administrador'])
  })
})

describe('temporary passwords', () => {
  it('an admin-created account is held on the change-password screen until the person chooses a password', async () => {
    const email = uniqueEmail('e2e-temp')
    const created = await admin.post('/api/admin/users', { email, fullName: 'Clave Temporal', role: 'worker' })
    const temporary = created.body.temporaryPassword as string
    const page = await signedIn({ email, password: temporary }, '/change-password')
    await page.getByTestId('change-password-hold').waitFor()
    await screenshot(page, 'change-password-hold-1024')
    // nothing else opens meanwhile
    await page.goto('/settings/tokens')
    await page.waitForURL(url => url.pathname === '/change-password')
    await page.getByLabel('Contraseña actual', { exact: true }).fill(temporary)
    await page.getByLabel('Nueva contraseña', { exact: true }).fill('mi-clave-propia-2024')
    await page.getByLabel('Repite la nueva contraseña', { exact: true }).fill('mi-clave-propia-2024')
    await page.getByRole('button', { name: 'Cambiar contraseña' }).click()
    await page.waitForURL(url => url.pathname.startsWith('/chat'))
    const me = await page.evaluate(() => fetch('/api/auth/me').then(r => r.json()))
    expect(me.mustChangePassword).toBe(false)
    await page.goto('/change-password')
    await page.waitForURL(url => url.pathname.startsWith('/chat'))
  })
})
