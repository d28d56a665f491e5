import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { makeUser, type TestUser } from '../api/admin-support'
import { launchBrowser, screenshot, searchList, signIn, trackTabs } from '../support/browser'
import { Client, DEMO } from '../support/http'

// Forms as a UI walk found them. Admin → Usuarios: an empty name came back from the server as "fullName: is required"
// (raw English with the field's code name) and only the first empty field was named; the toast confirming an action
// taken in a dialog showed behind that dialog; a reset password could appear above a phone's view. Ajustes → phone:
// a wrong number showed as a blue "information" box, away from its field.

let browser: Browser
let target: TestUser
let phoneOwner: TestUser
const tabs = trackTabs(() => browser, { allow: [/status of 503/] })

beforeAll(async () => {
  browser = await launchBrowser()
  const admin = new Client()
  await admin.login(DEMO.admin.email, DEMO.admin.password)
  target = await makeUser(admin, 'worker', null, 'e2e-forms')
  // the tests above deactivate `target` and reset its password: the phone is someone else's
  phoneOwner = await makeUser(admin, 'worker', null, 'e2e-forms-phone')
  await admin.patch(`/api/admin/users/${target.id}`, { fullName: 'Fabiola Formulario' })
})
afterAll(async () => { await browser?.close() })
afterEach(() => tabs.closeAll())

async function usersPage(width = 1280, height = 800) {
  const { page } = await tabs.open({ width, height })
  await signIn(page, DEMO.admin)
  await page.goto('/admin/users')
  return page
}

/** The admin's requests that change users, as they leave the browser. */
function userWrites(page: Page) {
  const sent: string[] = []
  page.on('request', (r) => { if (r.url().includes('/api/admin/users') && r.method() !== 'GET') sent.push(`${r.method()} ${new URL(r.url()).pathname}`) })
  return sent
}

async function editDialog(page: Page) {
  await searchList(page.getByLabel('Buscar por nombre o correo'), target.email, page.getByTestId('admin-manage-row'))
  await page.locator('[data-testid="admin-manage-row"]', { hasText: target.email }).getByTestId('admin-edit-user').click()
  const dialog = page.getByRole('dialog')
  await dialog.getByTestId('admin-edit-name').waitFor()
  return dialog
}

describe('Admin → Usuarios forms', () => {
  it('an empty create names every empty field in Spanish before anything is sent; the name field stops at 120 characters', async () => {
    const page = await usersPage()
    const sent = userWrites(page)
    await page.getByTestId('admin-create-user').click()
    const dialog = page.getByRole('dialog')
    await dialog.getByTestId('admin-create-submit').click()
    await dialog.getByText('Escribe el correo electrónico.').waitFor()
    await dialog.getByText('Escribe el nombre.').waitFor()
    expect(await dialog.getByText(/fullName|is required/).count()).toBe(0)
    expect(sent).toEqual([])
    // the focus goes to the first empty field, where the fix is
    await expect.poll(() => dialog.getByTestId('admin-new-email').locator('input').evaluate(el => el === document.activeElement)).toBe(true)
    expect(await dialog.getByLabel('Nombre completo').getAttribute('maxlength')).toBe('120')
    // typing in a field takes its mark away
    await dialog.getByLabel('Nombre completo').fill('Alguien')
    await expect.poll(() => dialog.getByText('Escribe el nombre.').count()).toBe(0)
    expect(await dialog.getByText('Escribe el correo electrónico.').count()).toBe(1)
  })

  it('an emptied name in the edit dialog is named on its field and nothing is sent', async () => {
    const page = await usersPage()
    const sent = userWrites(page)
    const dialog = await editDialog(page)
    await dialog.getByLabel('Nombre completo').fill('   ')
    await dialog.getByTestId('admin-edit-save').click()
    await dialog.getByText('Escribe el nombre.').waitFor()
    await expect.poll(() => dialog.getByLabel('Nombre completo').evaluate(el => el === document.activeElement)).toBe(true)
    expect(sent).toEqual([])
  })

  it('the toast for an action taken in the dialog shows above the dialog, not behind its backdrop', async () => {
    const page = await usersPage()
    const dialog = await editDialog(page)
    await dialog.getByTestId('admin-deactivate').click()
    await dialog.getByTestId('admin-confirm-action-go').click()
    const toast = page.locator('.ui-toast--success').filter({ hasText: 'Fabiola Formulario' })
    await toast.waitFor()
    // its entrance (a fade) finished: mid-way it is partly see-through. Vue starts the transition a frame after the
    // toast is in the page, so an empty getAnimations() right after waitFor() can mean "not started yet"
    await expect.poll(() => toast.evaluate(el => !el.className.includes('enter') && getComputedStyle(el).opacity === '1' && !el.getAnimations({ subtree: true }).length)).toBe(true)
    expect(await dialog.isVisible()).toBe(true)
    // the toast's green edge, read off the screen, is the success colour itself: behind the backdrop it was dimmed
    const box = (await toast.boundingBox())!
    const png = await page.screenshot({ clip: { x: box.x + 1, y: box.y + box.height / 2, width: 1, height: 1 } })
    const seen = await page.evaluate(async (data) => {
      const img = new Image()
      img.src = `data:image/png;base64,${data}`
      await img.decode()
      const canvas = Object.assign(document.createElement('canvas'), { width: 1, height: 1 })
      const ctx = canvas.getContext('2d')!
      ctx.drawImage(img, 0, 0)
      return [...ctx.getImageData(0, 0, 1, 1).data.slice(0, 3)]
    }, png.toString('base64'))
    const expected = await toast.evaluate((el) => {
      const probe = Object.assign(document.createElement('canvas'), { width: 1, height: 1 }).getContext('2d')!
      probe.fillStyle = getComputedStyle(el).borderLeftColor
      probe.fillRect(0, 0, 1, 1)
      return [...probe.getImageData(0, 0, 1, 1).data.slice(0, 3)]
    })
    for (const [i, channel] of seen.entries()) expect(Math.abs(channel - expected[i]!), `${seen} vs ${expected}`).toBeLessThanOrEqual(8)
    await screenshot(page, 'admin-toast-over-dialog-1280')
  })

  it('a greyed-out "Eliminar cuenta" says what it waits for: someone to get the data, then the typed email', async () => {
    const page = await usersPage()
    const dialog = await editDialog(page)
    await dialog.getByTestId('admin-delete-user').click()
    const go = dialog.getByTestId('admin-delete-user-go')
    const waiting = dialog.getByTestId('admin-delete-waiting')
    expect(await go.isDisabled()).toBe(true)
    expect(await waiting.textContent()).toBe('Elige a quién pasar sus conversaciones y reportes.')
    expect(await go.getAttribute('aria-describedby')).toBe(await waiting.getAttribute('id'))
    await dialog.getByTestId('admin-delete-drop').check()
    await expect.poll(() => waiting.textContent()).toBe(`Para confirmar, escribe ${target.email} tal cual.`)
    await dialog.getByTestId('admin-delete-typed').locator('input').fill(target.email)
    await expect.poll(() => waiting.count()).toBe(0)
    expect(await go.isDisabled()).toBe(false)
  })

  it('on a phone, a reset password is scrolled into view when it appears', async () => {
    const page = await usersPage(360, 740)
    const dialog = await editDialog(page)
    await dialog.getByTestId('admin-reset-password').click()
    await dialog.getByTestId('admin-confirm-action-go').click()
    const secret = dialog.getByTestId('admin-one-time-password')
    await secret.waitFor()
    await expect.poll(async () => {
      const [box, view] = await Promise.all([secret.boundingBox(), page.evaluate(() => window.innerHeight)])
      return JSON.stringify({ box, view, seen: !!box && box.y >= 0 && box.y + Math.min(box.height, 200) <= view })
    }).toContain('"seen":true')
    await screenshot(page, 'admin-reset-password-360')
  })
})

describe('Ajustes → phone', () => {
  it('a wrong number is an error on its field; SMS not set up on the server is information, not an error', async () => {
    const { page } = await tabs.open({ width: 360, height: 740 })
    await signIn(page, phoneOwner)
    await page.goto('/settings')
    const phone = page.getByLabel('Número (formato internacional)')
    await phone.fill('123')
    await page.getByRole('button', { name: 'Enviar código' }).click()
    await expect.poll(() => phone.getAttribute('aria-invalid')).toBe('true')
    await page.getByTestId('profile-phone').getByText('Escribe un número internacional, p. ej. +56912345678.').waitFor()
    expect(await page.getByTestId('profile-phone-error').count()).toBe(0)

    // this server has no Twilio: a good number gets the explanation, as a status, and the field is no longer marked
    await phone.fill('+56912345678')
    await page.getByRole('button', { name: 'Enviar código' }).click()
    const note = page.getByTestId('profile-phone-error')
    await note.waitFor()
    expect(await note.getAttribute('role')).toBe('status')
    expect(await note.textContent()).toContain('El envío de SMS no está configurado')
    expect(await phone.getAttribute('aria-invalid')).toBeNull()
    await screenshot(page, 'settings-phone-errors-360')
  })
})
