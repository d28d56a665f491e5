import type { Browser, Locator, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { makeUser, type TestUser } from '../api/admin-support'
import { type Account, launchBrowser, screenshot, searchList, signIn, trackTabs } from '../support/browser'
import { dbQuery, dbTime } from '../support/db'
import { Client, DEMO } from '../support/http'

// Mensajes and Reportes in Chromium against the real built server: two people write to each other in two
// browser contexts and the unread badge follows live; a worker files a report that their supervisor resolves
// from a tablet (768×1024) while the worker watches the chip turn "Resuelto"; a thread read offline and a
// reply typed offline that the outbox sends once the connection is back.

let browser: Browser
let supervisor: TestUser
let ana: TestUser
let beto: TestUser

// the e2e server has no model server on purpose (the chat page where sign-in lands gets 503 from /api/models);
// going offline makes the browser log the requests it could not send
const tabs = trackTabs(() => browser, { allow: [/status of 503/, /ERR_INTERNET_DISCONNECTED/, /Failed to fetch/] })

beforeAll(async () => {
  browser = await launchBrowser()
  const admin = new Client()
  await admin.login(DEMO.admin.email, DEMO.admin.password)
  supervisor = await makeUser(admin, 'supervisor', null, 'e2e-dm-sup')
  ana = await makeUser(admin, 'worker', supervisor.id, 'e2e-dm-ana')
  beto = await makeUser(admin, 'worker', supervisor.id, 'e2e-dm-beto')
  await admin.patch(`/api/admin/users/${supervisor.id}`, { fullName: 'Sofía Supervisora' })
  await admin.patch(`/api/admin/users/${ana.id}`, { fullName: 'Ana Mensajera' })
  await admin.patch(`/api/admin/users/${beto.id}`, { fullName: 'Beto Mensajero' })
})

afterAll(async () => { await browser?.close() })

afterEach(() => tabs.closeAll())

/** A fresh browser context signed in through the login page (it lands on the chat). */
async function open(account: Account, width = 1280, height = 800, { serviceWorker = false } = {}) {
  const tab = await tabs.open({ width, height, serviceWorker })
  await signIn(tab.page, account)
  return tab
}

/** The number on the header's Mensajes badge (0 when no badge shows). */
async function badge(page: Page) {
  const el = page.getByTestId('nav-messages').getByTestId('unread-badge')
  return (await el.count()) ? Number(await el.getAttribute('data-count')) : 0
}

/** A locator's visible text, trimmed (it waits for the element). */
const textOf = (locator: Locator) => locator.innerText().then(text => text.trim())
const message = (page: Page, text: string) => page.getByTestId('dm-message').filter({ hasText: text })

async function writeNew(page: Page, search: string, text: string) {
  await page.getByTestId('dm-new').click()
  await searchList(page.getByLabel('Buscar por nombre o correo'), search, page.getByTestId('dm-person'))
  await page.getByTestId('dm-person').filter({ hasText: search }).click()
  await page.getByTestId('dm-new-content').fill(text)
  await page.getByTestId('dm-new-send').click()
  // sent: the dialog closes and the new thread opens with the message in it
  await page.getByTestId('dm-new-form').waitFor({ state: 'detached' })
  await message(page, text).waitFor()
}


describe('Mensajes', () => {
  it('two people exchange messages and the badge, the list and the open thread change without reload', async () => {
    const { page: a } = await open(ana)
    const { page: b } = await open(beto)
    expect(await badge(b)).toBe(0)

    await a.getByTestId('nav-messages').click()
    await a.waitForURL(/\/messages$/)
    await a.getByRole('heading', { level: 1, name: 'Mensajes' }).waitFor()
    await writeNew(a, 'Beto Mensajero', 'Hola Beto, ¿revisaste la turbina 3?')
    await message(a, 'revisaste la turbina 3').waitFor()

    // Beto is on the chat: the badge appears by itself
    await expect.poll(() => badge(b)).toBe(1)
    await b.getByTestId('nav-messages').click()
    const thread = b.getByTestId('dm-thread').filter({ hasText: 'Ana Mensajera' })
    await expect.poll(() => thread.getAttribute('data-unread')).toBe('true')
    await thread.click()
    await message(b, 'revisaste la turbina 3').waitFor()
    // opening marks it read: the badge and the bold go
    await expect.poll(() => badge(b)).toBe(0)
    await expect.poll(() => thread.getAttribute('data-unread')).toBe('false')

    // Beto replies; Ana, with the thread open, sees it arrive
    await b.getByTestId('dm-composer').fill('Sí, está en orden.')
    await b.getByTestId('dm-composer').press('Enter')
    await message(b, 'está en orden').waitFor()
    await message(a, 'está en orden').waitFor()
    // she is looking at it, so it is read at once and her badge stays empty
    await expect.poll(() => badge(a)).toBe(0)

    // Ana edits her message: it says "editado"
    await message(a, 'revisaste la turbina 3').getByTestId('dm-edit').click()
    await a.getByTestId('dm-edit-input').fill('Hola Beto, ¿revisaste la turbina 4?')
    await a.getByTestId('dm-edit-save').click()
    await expect.poll(() => textOf(message(a, 'turbina 4').getByTestId('dm-edited'))).toBe('editado')
    // Beto, with the thread open, sees the edit arrive without reload
    await expect.poll(() => textOf(message(b, 'turbina 4').getByTestId('dm-edited'))).toBe('editado')
    expect(await message(b, 'turbina 3').count()).toBe(0)

    // a second tab of Beto's on the same thread: his delete there reaches it live
    const { page: b2 } = await open(beto)
    await b2.goto(b.url())
    await message(b2, 'Hola Beto').waitFor()

    // Beto deletes Ana's message from his view, undoes, then deletes for good
    await message(b, 'Hola Beto').getByTestId('dm-delete').click()
    await expect.poll(() => message(b, 'Hola Beto').count()).toBe(0)
    await b.getByRole('button', { name: 'Deshacer' }).click()
    await message(b, 'Hola Beto').waitFor()
    await message(b, 'Hola Beto').getByTestId('dm-delete').click()
    await expect.poll(() => b.getByTestId('dm-undo').count(), { timeout: 15_000 }).toBe(0)
    await expect.poll(() => message(b2, 'Hola Beto').count()).toBe(0)
    await message(b2, 'está en orden').waitFor()
    await b.reload()
    await message(b, 'está en orden').waitFor()
    await expect.poll(() => message(b, 'Hola Beto').count()).toBe(0)
    // …and Ana keeps her copy
    await a.reload()
    await message(a, 'turbina 4').waitFor()

    // two more for Beto while he is elsewhere, each through "Nuevo mensaje": they go on in the one thread with him
    // (a thread each made two rows with one name); "Marcar todo como leído" clears them
    // (his second tab leaves the thread too: a thread on screen reads what arrives in it)
    await b.getByRole('link', { name: 'Chat', exact: true }).click()
    await b2.getByRole('link', { name: 'Chat', exact: true }).click()
    await writeNew(a, 'Beto Mensajero', 'Primero')
    await a.getByTestId('nav-messages').click()
    await writeNew(a, 'Beto Mensajero', 'Segundo')
    await expect.poll(() => badge(b)).toBe(2)
    await b.getByTestId('nav-messages').click()
    await b.getByTestId('dm-filter-unread').click()
    await expect.poll(() => b.getByTestId('dm-thread').count()).toBe(1)
    expect(await b.getByTestId('dm-thread').filter({ hasText: 'Ana Mensajera' }).count()).toBe(1)
    await b.getByTestId('dm-read-all').click()
    await expect.poll(() => badge(b)).toBe(0)
    await expect.poll(() => b.getByTestId('dm-thread').count()).toBe(0)
    await b.getByTestId('dm-filter-sent').click()
    await expect.poll(() => b.getByTestId('dm-thread').count()).toBe(1)
    await screenshot(b, 'messages-list')
  }, 300_000) // three tabs and a dozen round trips: longer than one page's budget on a loaded machine

  it('the sender\'s open thread turns "Enviado" into "Leído" without reload when the recipient opens it, and after "Marcar todo como leído"', async () => {
    const admin = new Client()
    await admin.login(DEMO.admin.email, DEMO.admin.password)
    const [elena, fabio] = await Promise.all([makeUser(admin, 'worker', null, 'e2e-dm-elena'), makeUser(admin, 'worker', null, 'e2e-dm-fabio')])
    await admin.patch(`/api/admin/users/${elena!.id}`, { fullName: 'Elena Lectora' })
    const { page: f } = await open(fabio!)
    const { page: e } = await open(elena!)
    const readState = (text: string) => textOf(message(f, text).getByTestId('dm-read-state'))

    // Fabio writes and stays on the thread
    await f.goto('/messages')
    await writeNew(f, 'Elena Lectora', '¿Llegó el repuesto de la bomba?')
    expect(await readState('Llegó el repuesto')).toBe('Enviado')

    // Elena opens it: Fabio's thread says "Leído" by itself
    await expect.poll(() => badge(e)).toBe(1)
    await e.getByTestId('nav-messages').click()
    await e.getByTestId('dm-thread').filter({ hasText: 'Llegó el repuesto' }).click()
    await message(e, 'Llegó el repuesto').waitFor()
    await expect.poll(() => readState('Llegó el repuesto')).toBe('Leído')

    // Elena goes back to the list; Fabio's reply waits unread until she marks everything read there
    await e.getByTestId('nav-messages').click()
    await e.waitForURL(/\/messages$/)
    await f.getByTestId('dm-composer').fill('Avísame cuando lo instalen.')
    await f.getByTestId('dm-composer').press('Enter')
    await expect.poll(() => badge(e)).toBe(1)
    expect(await readState('Avísame cuando')).toBe('Enviado')
    await e.getByTestId('dm-read-all').click()
    await expect.poll(() => badge(e)).toBe(0)
    await expect.poll(() => readState('Avísame cuando')).toBe('Leído')
    expect(await readState('Llegó el repuesto')).toBe('Leído')
    expect(f.url()).toMatch(/\/messages\/[^/]+$/)
  })

  it('a reply to a thread the reader has left (for the chat) waits unread: nothing marks it read off screen', async () => {
    const admin = new Client()
    await admin.login(DEMO.admin.email, DEMO.admin.password)
    const [gala, hugo] = await Promise.all([makeUser(admin, 'worker', null, 'e2e-dm-gala'), makeUser(admin, 'worker', null, 'e2e-dm-hugo')])
    await admin.patch(`/api/admin/users/${gala!.id}`, { fullName: 'Gala Ausente' })
    const first = await hugo!.client.post('/api/messages', { recipientId: gala!.id, content: 'Primera pregunta de turno, ver www.example.cl/turnos' })
    expect(first.status).toBe(201)

    const { page } = await open(gala!)
    await page.getByTestId('nav-messages').click()
    await page.getByTestId('dm-thread').filter({ hasText: 'Primera pregunta' }).click()
    await message(page, 'Primera pregunta').waitFor()
    await expect.poll(() => badge(page)).toBe(0)
    // an address in a message is a link that opens apart from the app
    const link = message(page, 'Primera pregunta').getByRole('link', { name: 'www.example.cl/turnos' })
    expect(await link.getAttribute('href')).toBe('http://www.example.cl/turnos')
    expect(await link.getAttribute('target')).toBe('_blank')
    // off to the chat; the thread she had open is still the store's last
    await page.getByRole('navigation', { name: 'Navegación principal' }).getByRole('link', { name: 'Chat' }).click()
    await page.waitForURL(url => url.pathname.startsWith('/chat'))

    const reply = await hugo!.client.post('/api/messages', { recipientId: gala!.id, content: 'Segunda pregunta, sin ver', parentId: first.body.id })
    expect(reply.status).toBe(201)
    await expect.poll(() => badge(page)).toBe(1)
    expect((await hugo!.client.get(`/api/messages/${reply.body.id}`)).body.read).toBe(false)

    // back on the thread, it is read there
    await page.getByTestId('nav-messages').click()
    await page.getByTestId('dm-thread').filter({ hasText: 'Segunda pregunta' }).click()
    await message(page, 'Segunda pregunta').waitFor()
    await expect.poll(async () => (await hugo!.client.get(`/api/messages/${reply.body.id}`)).body.read).toBe(true)
    await expect.poll(() => badge(page)).toBe(0)
  })

  it('the thread list shows the newest 100 messages\' threads and "Cargar más" brings the older ones', async () => {
    const admin = new Client()
    await admin.login(DEMO.admin.email, DEMO.admin.password)
    const [carla, dario] = await Promise.all([makeUser(admin, 'worker', null, 'e2e-dm-carla'), makeUser(admin, 'worker', null, 'e2e-dm-dario')])
    // 130 one-message threads from Darío to Carla, a minute apart (seeded: the send rate limit would take minutes)
    const now = Date.now()
    for (let i = 0; i < 130; i++) {
      const id = crypto.randomUUID()
      await dbQuery('insert into dms (id, sender_id, recipient_id, thread_id, parent_id, content, read_at, edited_at, created_at) values (?, ?, ?, ?, null, ?, ?, null, ?)',
        [id, dario!.id, carla!.id, id, `Aviso número ${i}`, dbTime(new Date(now - (130 - i) * 60_000)), dbTime(new Date(now - (130 - i) * 60_000))])
    }
    const { page } = await open(carla!)
    await page.goto('/messages')
    const threads = page.getByTestId('dm-thread')
    await expect.poll(() => threads.count()).toBe(100)
    await expect.poll(() => textOf(threads.first())).toContain('Aviso número 129')
    await page.getByTestId('dm-load-more').click()
    await expect.poll(() => threads.count()).toBe(130)
    expect(await textOf(threads.last())).toContain('Aviso número 0')
    // the end of the list: no more button
    await expect.poll(() => page.getByTestId('dm-load-more').count()).toBe(0)
  })

  it('a thread opened before stays readable offline, and a reply typed offline is sent once when back', async () => {
    // offline as the installed app is: with its service worker
    const { page: a, context } = await open(ana, 390, 844, { serviceWorker: true })
    const { page: b } = await open(beto)
    await a.goto('/messages')
    // the one thread with Beto (it holds his "está en orden" and the later messages to him)
    await a.getByTestId('dm-thread').filter({ hasText: 'Beto Mensajero' }).click()
    await a.waitForURL(/\/messages\/[^/]+$/)
    const threadUrl = a.url()
    await message(a, 'está en orden').waitFor()
    await a.getByRole('link', { name: 'Volver a los mensajes' }).click()

    await context.setOffline(true)
    await a.getByTestId('dm-thread').filter({ hasText: 'Beto Mensajero' }).click()
    await a.getByTestId('offline-banner').waitFor()
    await message(a, 'está en orden').waitFor()

    const text = `Escrito sin conexión ${Date.now()}`
    await a.getByTestId('dm-composer').fill(text)
    await a.getByTestId('dm-composer').press('Enter')
    await a.getByTestId('dm-outbox-item').filter({ hasText: text }).waitFor()

    await context.setOffline(false)
    await message(a, text).waitFor()
    await expect.poll(() => a.getByTestId('dm-outbox-item').count()).toBe(0)
    expect(a.url()).toBe(threadUrl)
    await screenshot(a, 'messages-thread-390')
    // Beto gets it exactly once
    await b.goto(threadUrl)
    await message(b, text).waitFor()
    await expect.poll(() => message(b, text).count()).toBe(1)
  })
})

describe('Reportes', () => {
  it('a worker files a report, the supervisor resolves it on a 768 px tablet, the worker sees "Resuelto" live', async () => {
    const { page: worker } = await open(ana, 390, 844)
    const title = `Fuga en la sala de bombas ${Date.now()}`
    await worker.goto('/reports')
    await worker.getByRole('heading', { level: 1, name: 'Reportes' }).waitFor()
    // the tab says where the user is: the list, then the report's own title (it said "Detalle del reporte" on the list)
    await expect.poll(() => worker.title()).toMatch(/^Reportes\b/)
    await worker.getByLabel('Título').fill(title)
    await worker.getByLabel('Descripción').fill('Hay agua bajo la bomba 2 desde esta mañana.')
    await worker.getByTestId('report-submit').click()
    await worker.waitForURL(/\/reports\/[^/]+$/)
    await expect.poll(() => worker.title()).toMatch(new RegExp(`^${title}\\b`))
    const chip = worker.getByTestId('report-detail').getByTestId('report-status').first()
    await expect.poll(() => textOf(chip)).toBe('Abierto')

    const { page: staff } = await open(supervisor, 768, 1024)
    await staff.goto('/admin')
    await staff.getByTestId('admin-tab-reports').click()
    await staff.waitForURL(/\/admin\/reports/)
    const row = staff.getByTestId('report-row').filter({ hasText: title })
    await expect.poll(() => textOf(row.getByTestId('report-status'))).toBe('Abierto')
    await row.click()
    await expect.poll(() => textOf(staff.getByTestId('report-title'))).toBe(title)

    // a comment that moves it to "En curso": the worker's chip and thread follow without reload
    await staff.getByTestId('report-comment-input').fill('Voy en camino con el técnico.')
    await staff.getByTestId('report-status-select').selectOption('in_progress')
    await staff.getByTestId('report-comment-send').click()
    await expect.poll(() => textOf(staff.getByTestId('report-detail').getByTestId('report-status').first())).toBe('En curso')
    await expect.poll(() => textOf(chip)).toBe('En curso')
    await worker.getByTestId('report-comment').filter({ hasText: 'Voy en camino' }).waitFor()

    // the worker answers; the supervisor resolves
    await worker.getByTestId('report-comment-input').fill('Gracias, los espero.')
    await worker.getByTestId('report-comment-send').click()
    await worker.getByTestId('report-comment').filter({ hasText: 'los espero' }).waitFor()
    await staff.getByTestId('report-resolve').click()
    await expect.poll(() => textOf(staff.getByTestId('report-detail').getByTestId('report-status').first())).toBe('Resuelto')
    await screenshot(staff, 'reports-staff-768')

    await expect.poll(() => textOf(chip)).toBe('Resuelto')
    await worker.getByRole('link', { name: 'Mis reportes' }).click()
    await expect.poll(() => textOf(worker.getByTestId('report-row').filter({ hasText: title }).getByTestId('report-status'))).toBe('Resuelto')
    await screenshot(worker, 'reports-worker-360')

    // the queue filters by status: the resolved report leaves "Abierto"
    await staff.getByRole('link', { name: 'Reportes del equipo' }).click()
    await staff.getByTestId('queue-status').selectOption('open')
    await expect.poll(() => staff.getByTestId('report-row').filter({ hasText: title }).count()).toBe(0)
    await staff.getByTestId('queue-status').selectOption('resolved')
    await expect.poll(() => staff.getByTestId('report-row').filter({ hasText: title }).count()).toBe(1)
  })

  it('a report written offline waits in the outbox and is filed once when back', async () => {
    const { page, context } = await open(beto, 390, 844, { serviceWorker: true })
    await page.goto('/reports')
    await page.getByRole('heading', { level: 2, name: 'Mis reportes' }).waitFor()
    const title = `Luz quemada en bodega ${Date.now()}`
    await context.setOffline(true)
    await page.getByLabel('Título').fill(title)
    await page.getByLabel('Descripción').fill('La luz del pasillo 3 no enciende.')
    await page.getByTestId('report-submit').click()
    await page.getByTestId('dm-outbox-item').filter({ hasText: title }).waitFor()
    await expect.poll(() => page.getByTestId('report-row').filter({ hasText: title }).count()).toBe(0)

    await context.setOffline(false)
    const row = page.getByTestId('report-row').filter({ hasText: title })
    await expect.poll(() => textOf(row.getByTestId('report-status'))).toBe('Abierto')
    await expect.poll(() => page.getByTestId('dm-outbox-item').count()).toBe(0)
    await page.reload()
    await expect.poll(() => row.count()).toBe(1)
  })

  it('keeps a worker out of the staff queue', async () => {
    const { page } = await open(beto)
    await page.goto('/admin/reports')
    await page.waitForURL(url => !url.pathname.startsWith('/admin'))
  })
})

describe('Mensajes: the thread list\'s filter row', () => {
  it('fits on one line in the 360 px list column at 1280 and 768 (it took three lines), nothing running out of its box; usable at 360', async () => {
    const { page } = await open(ana)
    /** The controls of one row of the list's header: each one's name and top, and whether it runs past its box or the row. */
    const row = (selector: string) => page.locator(selector).evaluate((bar) => {
      const box = bar.getBoundingClientRect()
      const controls = [...bar.querySelectorAll<HTMLElement>('button')].map((el) => {
        const r = el.getBoundingClientRect()
        return {
          name: el.getAttribute('aria-label') ?? el.textContent!.trim(),
          top: Math.round(r.top),
          outside: el.scrollWidth > el.clientWidth + 1 || r.left < box.left - 0.5 || r.right > box.right + 0.5,
        }
      })
      return { height: Math.round(box.height), overflowing: bar.scrollWidth > bar.clientWidth + 1, controls }
    })
    for (const [width, height] of [[1280, 800], [768, 1024]] as const) {
      await page.setViewportSize({ width, height })
      await page.goto('/messages')
      await page.getByTestId('dm-filter-unread').waitFor()
      // the four chips share one line, each whole and inside the row, which does not scroll
      const filters = await row('[role="group"][aria-label="Mostrar"]')
      expect(filters.controls.map(c => c.name)).toEqual(['Todos', 'Recibidos', 'Enviados', 'No leídos'])
      expect(new Set(filters.controls.map(c => c.top)).size, `${width} px: ${JSON.stringify(filters.controls)}`).toBe(1)
      expect(filters.controls.filter(c => c.outside), `${width} px`).toEqual([])
      expect(filters.overflowing).toBe(false)
      expect(filters.height).toBeLessThan(60)
      // "Marcar todo como leído" is an icon that keeps its name, on the title's line with "Nuevo mensaje"
      const bar = await row('.messages-page__list > header')
      expect(bar.controls.map(c => c.name)).toEqual(['Marcar todo como leído', 'Nuevo mensaje'])
      expect(new Set(bar.controls.map(c => c.top)).size).toBe(1)
      expect(bar.controls.filter(c => c.outside)).toEqual([])
      expect(await page.getByRole('button', { name: 'Marcar todo como leído' }).getAttribute('title')).toBe('Marcar todo como leído')
      await screenshot(page, `messages-filters-${width}`)
    }
    // a phone: the chips still one row, each reachable and pressable, none cut
    await page.setViewportSize({ width: 360, height: 740 })
    await page.goto('/messages')
    await page.getByTestId('dm-filter-unread').click()
    await expect.poll(() => page.getByTestId('dm-filter-unread').getAttribute('aria-pressed')).toBe('true')
    const phone = await row('[role="group"][aria-label="Mostrar"]')
    expect(phone.controls.filter(c => c.outside)).toEqual([])
    await screenshot(page, 'messages-filters-360')
  })
})
