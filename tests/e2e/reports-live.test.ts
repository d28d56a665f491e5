import type { Browser, Locator } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { makeUser, type TestUser } from '../api/admin-support'
import { type Account, launchBrowser, screenshot, signIn, trackTabs } from '../support/browser'
import { Client, DEMO } from '../support/http'

// A report's live updates (a comment or a status change by the other side) leave alone what the reader is typing:
// the reply box and the open editor kept nothing before — any new comment emptied the box, any change closed the
// editor with the old text back. A supervisor's person filter offers only the people whose reports it can show.
// And the rough edges a UI walk found in filing one: a greyed-out button that gave no reason, addresses that were
// not links, "Reportado por <your own name>", and a long title filling the list.

let browser: Browser
let supervisor: TestUser
let worker: TestUser
let outsider: TestUser
let newcomer: TestUser
const tabs = trackTabs(() => browser, { allow: [/status of 503/] })

beforeAll(async () => {
  browser = await launchBrowser()
  const admin = new Client()
  await admin.login(DEMO.admin.email, DEMO.admin.password)
  supervisor = await makeUser(admin, 'supervisor', null, 'e2e-rl-sup')
  worker = await makeUser(admin, 'worker', supervisor.id, 'e2e-rl-w')
  const otherSupervisor = await makeUser(admin, 'supervisor', null, 'e2e-rl-sup2')
  outsider = await makeUser(admin, 'worker', otherSupervisor.id, 'e2e-rl-x')
  newcomer = await makeUser(admin, 'worker', supervisor.id, 'e2e-rl-new')
  await admin.patch(`/api/admin/users/${newcomer.id}`, { fullName: 'Nora Nueva' })
  await admin.patch(`/api/admin/users/${supervisor.id}`, { fullName: 'Rita Supervisora' })
  await admin.patch(`/api/admin/users/${worker.id}`, { fullName: 'Walter Reportero' })
  await admin.patch(`/api/admin/users/${outsider.id}`, { fullName: 'Xavier Ajeno' })
})

afterAll(async () => { await browser?.close() })
afterEach(() => tabs.closeAll())

async function open(account: Account, width = 1280, height = 800) {
  const { page } = await tabs.open({ width, height })
  await signIn(page, account)
  return page
}

const textOf = async (locator: Locator) => ((await locator.count()) ? (await locator.first().textContent())?.trim() : null)

async function fileReport(by: TestUser, title: string) {
  const res = await by.client.post('/api/reports', { title, content: 'La bomba 3 pierde aceite.' })
  expect(res.status).toBe(201)
  return res.body.id as string
}

describe('a report\'s live updates keep what is being typed', () => {
  it('the reporter\'s reply and the supervisor\'s reply (with its status) survive the other side\'s comments; a send of one\'s own clears it', async () => {
    const id = await fileReport(worker, `Aceite en la bomba ${Date.now()}`)
    const reporter = await open(worker, 390, 844)
    await reporter.goto(`/reports/${id}`)
    await reporter.getByTestId('report-comment-input').fill('Estoy escribiendo una respuesta larga…')

    const staff = await open(supervisor)
    await staff.goto(`/admin/reports?id=${id}`)
    await staff.getByTestId('report-comment-input').fill('Reviso esto ahora')
    await staff.getByTestId('report-status-select').selectOption('in_progress')

    // someone else comments on the report each of them has open
    expect((await supervisor.client.post(`/api/reports/${id}/comments`, { content: 'Primera nota del equipo' })).status).toBe(201)
    await reporter.getByTestId('report-comment').filter({ hasText: 'Primera nota del equipo' }).waitFor()
    await staff.getByTestId('report-comment').filter({ hasText: 'Primera nota del equipo' }).waitFor()
    expect(await reporter.getByTestId('report-comment-input').inputValue()).toBe('Estoy escribiendo una respuesta larga…')
    expect(await staff.getByTestId('report-comment-input').inputValue()).toBe('Reviso esto ahora')
    expect(await staff.getByTestId('report-status-select').inputValue()).toBe('in_progress')

    // the reporter's own send clears their box, and the supervisor's typed reply still stands
    await reporter.getByTestId('report-comment-send').click()
    await reporter.getByTestId('report-comment').filter({ hasText: 'respuesta larga' }).waitFor()
    await expect.poll(() => reporter.getByTestId('report-comment-input').inputValue()).toBe('')
    await staff.getByTestId('report-comment').filter({ hasText: 'respuesta larga' }).waitFor()
    expect(await staff.getByTestId('report-comment-input').inputValue()).toBe('Reviso esto ahora')
    await staff.getByTestId('report-comment-send').click()
    await expect.poll(() => textOf(staff.getByTestId('report-detail').getByTestId('report-status'))).toBe('En curso')
    await expect.poll(() => staff.getByTestId('report-comment-input').inputValue()).toBe('')
    expect(await staff.getByTestId('report-status-select').inputValue()).toBe('')
  })

  it('an edit in progress stays open through a comment; a status change meanwhile says it can no longer be saved; a saved edit is confirmed', async () => {
    const id = await fileReport(worker, `Ruido en el compresor ${Date.now()}`)
    const reporter = await open(worker)
    await reporter.goto(`/reports/${id}`)
    await reporter.getByTestId('report-edit').click()
    const title = reporter.getByTestId('report-detail').getByTestId('report-form').getByLabel('Título')
    await title.fill('Ruido fuerte en el compresor 2')

    expect((await supervisor.client.post(`/api/reports/${id}/comments`, { content: 'Lo vemos mañana' })).status).toBe(201)
    await reporter.getByTestId('report-comment').filter({ hasText: 'Lo vemos mañana' }).waitFor()
    expect(await title.inputValue()).toBe('Ruido fuerte en el compresor 2')

    await reporter.getByTestId('report-detail').getByTestId('report-form').getByRole('button', { name: 'Guardar cambios' }).click()
    await reporter.getByText('Reporte actualizado').waitFor()
    await expect.poll(() => textOf(reporter.getByTestId('report-title'))).toBe('Ruido fuerte en el compresor 2')
    expect(await reporter.getByTestId('report-detail').getByTestId('report-form').count()).toBe(0)

    // editing again, the supervisor takes it in hand: the editor stays, and says why saving no longer works
    await reporter.getByTestId('report-edit').click()
    await reporter.getByTestId('report-detail').getByTestId('report-form').getByLabel('Título').fill('Otro cambio')
    expect((await supervisor.client.post(`/api/reports/${id}/comments`, { content: 'En camino', status: 'in_progress' })).status).toBe(201)
    await reporter.getByTestId('report-edit-closed').waitFor()
    expect(await reporter.getByTestId('report-detail').getByTestId('report-form').getByLabel('Título').inputValue()).toBe('Otro cambio')
    await screenshot(reporter, 'report-edit-closed-meanwhile-1280')
  })
})

describe('the supervisor\'s person filter', () => {
  it('offers the team members who filed reports (themself included), never someone outside the team', async () => {
    await fileReport(worker, `Filtro ${Date.now()}`)
    await fileReport(supervisor, `Propio ${Date.now()}`)
    await fileReport(outsider, `Ajeno ${Date.now()}`)
    const staff = await open(supervisor)
    await staff.goto('/admin/reports')
    const options = staff.getByTestId('queue-person').locator('option')
    await expect.poll(() => options.allTextContents()).toEqual(['Todas las personas', 'Rita Supervisora', 'Walter Reportero'])
    await staff.getByTestId('queue-person').selectOption({ label: 'Rita Supervisora' })
    await expect.poll(() => staff.getByTestId('report-row').count()).toBe(1)
    expect(await textOf(staff.getByTestId('report-row'))).toContain('Propio')
    expect(await staff.getByText('No se pudieron cargar los reportes.').count()).toBe(0)

    // someone's first report, filed while the queue is open, adds them to the filter without a reload
    await fileReport(newcomer, `Primero ${Date.now()}`)
    await expect.poll(() => options.allTextContents()).toEqual(['Todas las personas', 'Nora Nueva', 'Rita Supervisora', 'Walter Reportero'])
  })

  it('on a tablet the supervisor\'s three admin tabs show whole: the team note makes way, the row is not scrolled', async () => {
    const staff = await open(supervisor, 768, 1024)
    await staff.goto('/admin/reports')
    await staff.getByTestId('admin-team-scope').waitFor()
    const nav = staff.getByRole('navigation', { name: 'Secciones de administración' })
    await staff.getByTestId('admin-tab-reports').waitFor()
    // the row is brought to the current tab at idle time: an idle callback asked for now runs after that one
    await staff.evaluate(() => new Promise(done => requestIdleCallback(() => requestAnimationFrame(() => done(null)), { timeout: 2000 })))
    const placed = await nav.evaluate((el) => {
      const box = el.getBoundingClientRect()
      const whole = [...el.querySelectorAll('a')].every((a) => { const r = a.getBoundingClientRect(); return r.left >= box.left - 1 && r.right <= box.right + 1 })
      return { whole, scrollLeft: el.scrollLeft }
    })
    expect(placed).toEqual({ whole: true, scrollLeft: 0 })
    await screenshot(staff, 'admin-tabs-supervisor-768')
  })
})

describe('a resolved report', () => {
  it('tells the reporter that a reply stays in the thread but does not reopen it', async () => {
    const id = await fileReport(worker, `Resuelto ${Date.now()}`)
    expect((await supervisor.client.put(`/api/reports/${id}/resolve`, {})).status).toBe(200)
    const page = await open(worker, 390, 844)
    await page.goto(`/reports/${id}`)
    const hint = page.getByTestId('report-resolved-hint')
    await hint.waitFor()
    expect(await hint.textContent()).toContain('no lo reabre')
    expect(await page.getByTestId('report-comment-input').getAttribute('aria-describedby')).toBe(await hint.getAttribute('id'))
    // an open report says nothing of the kind
    const open2 = await fileReport(worker, `Abierto ${Date.now()}`)
    await page.goto(`/reports/${open2}`)
    await page.getByTestId('report-comment-input').waitFor()
    expect(await page.getByTestId('report-resolved-hint').count()).toBe(0)
  })
})

describe('filing a report', () => {
  it('an empty send names the empty fields; the report says "por ti", its addresses are links, and a long title takes two lines in the list', async () => {
    const page = await open(worker, 390, 844)
    await page.goto('/reports')
    const form = page.getByTestId('report-form')
    await form.getByTestId('report-submit').click()
    await form.getByText('Escribe un título.').waitFor()
    await form.getByText('Describe lo que pasó.').waitFor()
    expect(await form.getByLabel('Descripción').getAttribute('aria-invalid')).toBe('true')
    await expect.poll(() => form.getByLabel('Título').evaluate(el => el === document.activeElement)).toBe(true)

    const title = `Medidor de la subestación ${Date.now()} con una descripción larga que no cabe en dos líneas de la lista de reportes del teléfono`
    const content = 'Ver el manual en https://intranet.example.cl/manuales/medidor?id=7, o escribir a soporte@example.cl.\nGracias.'
    await form.getByLabel('Título').fill(title)
    await expect.poll(() => form.getByText('Escribe un título.').count()).toBe(0)
    await form.getByLabel('Descripción').fill(content)
    await form.getByTestId('report-submit').click()
    await page.waitForURL(/\/reports\/[^/]+$/)

    const detail = page.getByTestId('report-detail')
    await detail.getByText(/^Reportado por ti el /).waitFor()
    const body = detail.getByTestId('report-content')
    expect(await body.textContent()).toBe(content)
    const links = await body.locator('a').evaluateAll(els => els.map(a => [a.getAttribute('href'), a.textContent, a.getAttribute('target'), a.getAttribute('rel')]))
    expect(links).toEqual([
      ['https://intranet.example.cl/manuales/medidor?id=7', 'https://intranet.example.cl/manuales/medidor?id=7', '_blank', 'noopener noreferrer'],
      ['mailto:soporte@example.cl', 'soporte@example.cl', '_blank', 'noopener noreferrer'],
    ])

    await page.getByRole('link', { name: 'Mis reportes' }).click()
    const row = page.getByTestId('report-row').filter({ hasText: 'Medidor de la subestación' })
    // polled: the row can be there a moment before the list's stylesheet (its line height is then "normal")
    await expect.poll(() => row.locator('.report-list__title').evaluate((el) => {
      const style = getComputedStyle(el)
      return Math.round(el.getBoundingClientRect().height / Number.parseFloat(style.lineHeight))
    })).toBe(2)
    // the whole title is still the link's name
    expect(await row.textContent()).toContain(title)
    // filed today: the list says the time alone, the full date on hover
    const when = row.locator('time')
    expect((await when.textContent())!.trim()).toMatch(/^\d{1,2}:\d{2}(\s?[ap]\.?\s?m\.?)?$/i)
    expect(await when.getAttribute('title')).toMatch(/\d{4}/)
    await screenshot(page, 'report-list-long-title-390')
  })
})

describe('the staff report\'s back link', () => {
  it('is "‹ Reportes del equipo" as the worker\'s "‹ Mis reportes" (it was a bare "Volver a la lista" button), reached by keyboard, and returns to the queue; in English too', async () => {
    const title = `Válvula atascada ${Date.now()}`
    const id = await fileReport(worker, title)
    const staff = await open(supervisor, 768, 1024)
    await staff.goto(`/admin/reports?id=${id}`)
    await expect.poll(() => textOf(staff.getByTestId('report-title'))).toBe(title)
    const back = staff.getByRole('link', { name: 'Reportes del equipo', exact: true })
    expect(await back.count()).toBe(1)
    expect((await back.textContent())!.trim()).toBe('Reportes del equipo')
    // the same chevron as the worker's link: an icon that is no part of the name
    expect(await back.locator('svg[aria-hidden="true"] path').getAttribute('d')).toBe('m15 6-6 6 6 6')
    expect(await back.getAttribute('href')).toBe('/admin/reports')
    await screenshot(staff, 'report-staff-back-768')

    // by keyboard: Tab reaches it before anything of the report, Enter goes back to the queue
    await staff.locator('body').focus()
    let reached = false
    for (let i = 0; i < 40 && !reached; i++) {
      await staff.keyboard.press('Tab')
      reached = await back.evaluate(el => el === document.activeElement)
    }
    expect(reached).toBe(true)
    await staff.keyboard.press('Enter')
    await staff.waitForURL(url => url.pathname === '/admin/reports' && !url.searchParams.has('id'))
    await staff.getByTestId('report-row').filter({ hasText: title }).waitFor()
    expect(await back.count()).toBe(0)

    // in English (the language picked on the sign-in page), on a phone
    const { page } = await tabs.open({ width: 360, height: 740 })
    await page.goto('/login')
    await page.getByRole('button', { name: 'English' }).click()
    await page.locator('input[autocomplete="username"]').fill(supervisor.email)
    await page.locator('input[autocomplete="current-password"]').fill(supervisor.password)
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL(url => url.pathname.startsWith('/chat'))
    await page.goto(`/admin/reports?id=${id}`)
    const backEn = page.getByRole('link', { name: 'Team reports', exact: true })
    await backEn.click()
    await page.waitForURL(url => url.pathname === '/admin/reports' && !url.searchParams.has('id'))
    await page.getByTestId('report-row').filter({ hasText: title }).waitFor()
  })
})
