import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser, openPage, screenshot, type TestPage } from '../support/browser'
import { dbQuery, dbTime } from '../support/db'
import { FakeOllama } from '../support/fake-ollama'
import { FakeTwilio, messageSid, signTwilio } from '../support/fake-twilio'
import { Client, DEMO } from '../support/http'
import { createTestDatabase, type RunningServer, startServer, type TestDatabase } from '../support/server'

// The SMS channel in the browser: Admin → Canales shows the configured channel, the last inbound and outbound
// message and a failed send whose retry button sends it; the worker sees their SMS conversation in the chat list
// with the "SMS" badge, read-only on the web. Real built server and Chromium; fake Twilio and fake Ollama.

const TWILIO = {
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  TWILIO_AUTH_TOKEN: 'test-auth-token-0123456789abcdef',
  TWILIO_PHONE_NUMBER: '+15005550006',
}
const PHONE = `+56977${String(process.pid % 100000).padStart(5, '0')}`

let model: FakeOllama
let twilio: FakeTwilio
let db: TestDatabase
let server: RunningServer
let browser: Browser
const open: TestPage[] = []

beforeAll(async () => {
  model = await new FakeOllama().start()
  twilio = await new FakeTwilio().start()
  db = await createTestDatabase('sqlite')
  server = await startServer({
    DATABASE_URL: db.url, OLLAMA_HOST: model.url, TWILIO_API_BASE: twilio.url, ...TWILIO,
    JOB_BACKOFF_MS: '100', JOB_LEASE_MS: '1500', JOB_POLL_MS: '50',
  })
  browser = await launchBrowser()
  // the demo worker's phone is verified (the phone routes have their own tests)
  const [worker] = await dbQuery<{ id: string }>('select id from users where email = ?', [DEMO.worker.email], db.url)
  await dbQuery('update users set phone = ?, phone_verified_at = ? where id = ?', [PHONE, dbTime(new Date(), db.url), worker!.id], db.url)
}, 120_000)

afterAll(async () => {
  await browser?.close()
  await server?.stop()
  await db?.drop()
  await model?.close()
  await twilio?.close()
})

afterEach(async () => {
  for (const tab of open.splice(0)) {
    const errors = [...tab.errors]
    await tab.close()
    expect(errors).toEqual([])
  }
})

/** Posts an inbound SMS signed exactly as Twilio signs it. */
async function inbound(body: string) {
  const path = '/api/channels/twilio/sms'
  const form = { AccountSid: TWILIO.TWILIO_ACCOUNT_SID, From: PHONE, To: TWILIO.TWILIO_PHONE_NUMBER, Body: body, MessageSid: messageSid(), NumMedia: '0' }
  const res = await fetch(server.url + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signTwilio(TWILIO.TWILIO_AUTH_TOKEN, server.url + path, form) },
    body: new URLSearchParams(form).toString(),
  })
  expect(res.status).toBe(200)
}

async function signedIn(user: { email: string, password: string }, viewport?: { width: number, height: number }): Promise<Page> {
  const tab = await openPage(browser, { baseUrl: server.url, ...viewport })
  open.push(tab)
  const client = new Client(server.url)
  await client.login(user.email, user.password)
  await tab.context.addCookies([...client.cookies].map(([name, value]) => ({ name, value, url: server.url })))
  return tab.page
}

describe('Admin → Canales', () => {
  it('shows the configured channel, the last inbound and outbound message, and a failed send whose retry sends it', async () => {
    const page = await signedIn(DEMO.admin)
    await page.goto('/admin/channels')
    await expect.poll(() => page.getByTestId('sms-configured').textContent()).toBe('Configurado')
    await expect.poll(() => page.getByText(TWILIO.TWILIO_PHONE_NUMBER).count()).toBeGreaterThan(0)
    expect(await page.getByText(`${server.url}/api/channels/twilio/sms`).count()).toBe(1)
    expect(await page.getByTestId('sms-no-failed').isVisible()).toBe(true)

    // an answered SMS: the worker's name as the last inbound, their number as the last outbound
    await inbound('¿A qué hora es el turno?')
    await twilio.waitFor(() => twilio.acceptedTo(PHONE).length === 1, 20_000)
    await expect.poll(async () => {
      await page.getByRole('button', { name: 'Actualizar' }).click()
      return [await page.getByTestId('sms-last-inbound').textContent(), await page.getByTestId('sms-last-outbound').textContent()]
    }, { timeout: 20_000 }).toEqual([expect.stringContaining('Trabajador Demo'), expect.stringContaining(PHONE)])

    // Twilio refuses the next send (400: not retried): it shows as failed; the retry button sends it once
    twilio.fail(1, 400)
    await inbound('¿Y mañana?')
    const failed = page.getByTestId('sms-failed-send')
    await expect.poll(async () => {
      await page.getByRole('button', { name: 'Actualizar' }).click()
      return failed.count()
    }, { timeout: 20_000 }).toBe(1)
    expect(await failed.textContent()).toContain(PHONE)
    expect(await failed.textContent()).toContain('0 de 1 partes enviadas')
    expect(twilio.acceptedTo(PHONE)).toHaveLength(1)
    await screenshot(page, 'admin-channels-failed')
    await failed.getByRole('button', { name: 'Reintentar' }).click()
    await expect.poll(() => page.getByText('El envío volvió a la cola.').count()).toBeGreaterThan(0)
    await twilio.waitFor(() => twilio.acceptedTo(PHONE).length === 2, 20_000)
    await expect.poll(async () => {
      await page.getByRole('button', { name: 'Actualizar' }).click()
      return page.getByTestId('sms-no-failed').count()
    }, { timeout: 20_000 }).toBe(1)
    expect(twilio.acceptedTo(PHONE)).toHaveLength(2)
  }, 180_000) // three SMS round trips through the job queue, each followed by a page refresh
})

describe('the SMS conversation in the web app', () => {
  it('shows in the worker\'s chat list with the SMS badge and opens read-only with the texts exchanged', async () => {
    await inbound('Necesito el manual del medidor')
    await twilio.waitFor(posts => posts.filter(p => p.to === PHONE && p.sid).length >= 1, 20_000)
    const page = await signedIn(DEMO.worker, { width: 1280, height: 800 })
    await page.goto('/chat')
    const badge = page.getByTestId('sms-badge')
    await expect.poll(() => badge.count(), { timeout: 20_000 }).toBe(1)
    expect(await badge.textContent()).toBe('SMS')
    await badge.click()
    await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/)
    await expect.poll(() => page.getByTestId('sms-read-only').isVisible()).toBe(true)
    await expect.poll(() => page.getByText('Necesito el manual del medidor').count()).toBeGreaterThan(0)
    // the web composer is not offered for an SMS conversation
    expect(await page.locator('textarea').count()).toBe(0)
    // nor what would write into it from the web (walk 4: "Regenerar" on the last answer and a pencil under each
    // text, each refused by the server with a 409)
    await page.locator('[data-testid="message"][data-role="assistant"][data-status="complete"]').first().waitFor()
    expect(await page.getByTestId('regenerate').count()).toBe(0)
    expect(await page.getByTestId('edit-message').count()).toBe(0)
  })
})

describe('Admin → Canales: what the webhook addresses are for, and a channel whose sends fail', () => {
  it('says which address goes in Twilio\'s "A message comes in" and what the other is; failed sends turn "Configurado" from green to a warning with the last error', async () => {
    twilio.reset()
    const page = await signedIn(DEMO.admin, { width: 1280, height: 800 })
    await page.goto('/admin/channels')
    const badge = page.getByTestId('sms-configured')
    await expect.poll(() => badge.textContent()).toBe('Configurado')
    const hooks = page.getByTestId('sms-webhook')
    await expect.poll(() => hooks.count()).toBe(2)
    const said = (hook: number) => Promise.all([hooks.nth(hook).locator('code').textContent(), hooks.nth(hook).locator('p').textContent()])
    expect(await said(0)).toEqual([`${server.url}/api/channels/twilio/sms`, 'Pégala en la consola de Twilio, en el campo «A message comes in» del número (Webhook, HTTP POST).'])
    expect(await said(1)).toEqual([`${server.url}/twilio_webhook`, 'El mismo webhook, en la dirección que usaba la plataforma anterior: sirve si el número ya apunta ahí.'])
    // nothing failed (the first test's failed send was retried): green, no warning
    await expect.poll(() => page.getByTestId('sms-no-failed').count()).toBe(1)
    expect(await badge.getAttribute('data-tone')).toBe('success')
    expect(await page.getByTestId('sms-warning').count()).toBe(0)
    const green = await badge.evaluate(el => getComputedStyle(el).backgroundColor)

    // Twilio refuses a reply: still "Configurado" (the settings are there), no longer green, and the warning says why
    twilio.fail(1, 400)
    await inbound('¿Quién está de turno?')
    await expect.poll(async () => {
      await page.getByRole('button', { name: 'Actualizar' }).click()
      return page.getByTestId('sms-failed-send').count()
    }, { timeout: 20_000 }).toBe(1)
    expect(await badge.textContent()).toBe('Configurado')
    expect(await badge.getAttribute('data-tone')).toBe('warning')
    expect(await badge.evaluate(el => getComputedStyle(el).backgroundColor)).not.toBe(green)
    const warning = page.getByTestId('sms-warning')
    expect(await warning.isVisible()).toBe(true)
    expect((await warning.textContent())!.replace(/\s+/g, ' ').trim()).toMatch(/^1 envío falló: Twilio lo rechazó o no respondió\. Último error: .*400/)
    // beside the status: right under the heading that holds the badge
    const [badgeBox, warningBox] = [await badge.boundingBox(), await warning.boundingBox()]
    expect(warningBox!.y - (badgeBox!.y + badgeBox!.height)).toBeLessThan(40)
    await screenshot(page, 'admin-channels-warning-1280')
    await page.setViewportSize({ width: 360, height: 740 })
    await screenshot(page, 'admin-channels-warning-360')
  }, 120_000)

  it('a reply waiting for another try (Twilio said "too many requests") turns the badge amber before it has failed, with the error', async () => {
    const page = await signedIn(DEMO.admin, { width: 1280, height: 800 })
    await page.goto('/admin/channels')
    const warning = page.getByTestId('sms-warning')
    twilio.fail(1, 429, 60)
    await inbound('¿Hay reunión hoy?')
    await expect.poll(async () => {
      await page.getByRole('button', { name: 'Actualizar' }).click()
      return (await warning.count()) ? (await warning.textContent())!.replace(/\s+/g, ' ') : ''
    }, { timeout: 20_000 }).toContain('1 respuesta espera otro intento: el último no resultó.')
    expect((await warning.textContent())!).toMatch(/Último error: .*429/)
    expect(await page.getByTestId('sms-configured').getAttribute('data-tone')).toBe('warning')
    expect((await page.getByTestId('sms-pending').textContent())!.replace(/\s+/g, ' ')).toMatch(/· 1 reintentando/)
    await screenshot(page, 'admin-channels-retrying-1280')
  }, 60_000)
})
