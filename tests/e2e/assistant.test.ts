import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { launchBrowser, NO_SERVICE_WORKER, screenshot } from '../support/browser'
import { FakeOllama, lastMessageOf, toolResultsOf } from '../support/fake-ollama'
import { Client, DEMO, GOOD_PASSWORD, uniqueEmail } from '../support/http'
import { createTestDatabase, type RunningServer, startServer, type TestDatabase } from '../support/server'

// The assistant with tools in the web chat: a worker asks about their reports, the fake model calls
// list_my_reports (Ollama's tool_calls wire format through the real client), the chat shows the tool line and
// an answer built from the tool result — which holds the worker's own reports only.

const isTitleCall = (body: any) => String(body?.messages?.[0]?.content ?? '').includes('título breve')

let fake: FakeOllama
let db: TestDatabase
let server: RunningServer
let browser: Browser
let othersReportId: string
const errors: string[] = []
const pages: Page[] = []

async function fileReport(email: string, password: string, title: string) {
  const client = new Client(server.url)
  await client.login(email, password)
  const res = await client.post('/api/reports', { title, content: `Detalle: ${title}` })
  if (res.status !== 201) throw new Error(`report → ${res.status} ${res.text}`)
  return res.body.id as string
}

beforeAll(async () => {
  fake = await new FakeOllama().start()
  db = await createTestDatabase('sqlite')
  server = await startServer({ DATABASE_URL: db.url, OLLAMA_HOST: fake.url, CHAT_RATE_LIMIT: '1000/1m' })
  browser = await launchBrowser()
  // the demo worker's report, and another worker's that must never show up in the worker's answer
  const admin = new Client(server.url)
  await admin.login(DEMO.admin.email, DEMO.admin.password)
  const other = uniqueEmail('worker')
  const created = await admin.post('/api/admin/users', { email: other, fullName: 'Otra Trabajadora', role: 'worker', password: GOOD_PASSWORD, mustChangePassword: false })
  if (created.status !== 201) throw new Error(`create worker → ${created.status}`)
  await fileReport(DEMO.worker.email, DEMO.worker.password, 'Fuga de agua en bodega 3')
  othersReportId = await fileReport(other, GOOD_PASSWORD, 'Luz quemada en pasillo norte')
})

afterAll(async () => {
  await browser?.close()
  await server?.stop()
  await db?.drop()
  await fake?.close()
})

afterEach(async () => {
  for (const page of pages.splice(0)) await page.context().close()
  expect(errors.splice(0).filter(e => !/status of 401/.test(e))).toEqual([])
})

async function open(locale = 'es-CL') {
  const context = await browser.newContext({ baseURL: server.url, viewport: { width: 1280, height: 800 }, locale, ...NO_SERVICE_WORKER })
  const page = await context.newPage()
  page.on('console', (msg) => { if (msg.type() === 'error') errors.push(msg.text()) })
  page.on('pageerror', error => errors.push(`pageerror: ${error.message}`))
  pages.push(page)
  return page
}

async function signIn(page: Page, button: string) {
  await page.goto('/login')
  if (button === 'Sign in') await page.getByRole('button', { name: 'English' }).click()
  await page.locator('input[autocomplete="username"]').fill(DEMO.worker.email)
  await page.locator('input[autocomplete="current-password"]').fill(DEMO.worker.password)
  await page.getByRole('button', { name: button }).click()
  await page.waitForURL(/\/chat\/?$/)
}

/** The fake model: asked about reports, it calls list_my_reports; given the result, it names each report. */
function reportsModel() {
  fake.reset().set({
    delayMs: 60,
    toolCalls: body => (lastMessageOf(body)?.role === 'user' && /reportes|reports/i.test(lastMessageOf(body)!.content) ? [{ name: 'list_my_reports', arguments: {} }] : null),
    reply: (body) => {
      if (isTitleCall(body)) return 'Mis reportes'
      const [list] = toolResultsOf(body)
      if (!list) return 'No consulté nada.'
      return `Tienes ${list.result.total} reporte(s): ${list.result.reports.map((r: any) => `«${r.title}» (${r.status})`).join(', ')}.`
    },
  })
}

describe('assistant tools in the chat', () => {
  it('a worker asks "¿cómo van mis reportes?", sees the tool line and an answer naming their own reports only', async () => {
    reportsModel()
    const page = await open('es-CL')
    await signIn(page, 'Iniciar sesión')
    const composer = page.getByTestId('composer')
    await composer.fill('¿cómo van mis reportes?')
    await composer.press('Enter')

    const answer = page.locator('[data-testid="message"][data-role="assistant"]').last()
    const line = answer.getByTestId('tool-line')
    await line.waitFor()
    await expect.poll(() => line.getAttribute('data-tool')).toBe('list_my_reports')
    // under way it reads "Consultando tus reportes…"; ended, what the assistant did
    await expect.poll(() => line.getAttribute('data-status')).toBe('done')
    await expect.poll(() => line.textContent()).toBe('Consulté tus reportes')

    await answer.and(page.locator('[data-status="complete"]')).waitFor()
    const body = answer.getByTestId('message-body')
    await expect.poll(() => body.textContent()).toContain('«Fuga de agua en bodega 3» (open)')
    expect(await body.textContent()).toContain('Tienes 1 reporte(s)')
    expect(await body.textContent()).not.toContain('Luz quemada')
    await screenshot(page, 'assistant-tool-line-1280')

    // a list of reports is about no one report: no link
    expect(await line.getByTestId('tool-report-link').count()).toBe(0)

    // after a reload the tool call is not listed as a message, but the answer still shows the call that led to it
    await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/)
    await page.reload()
    const saved = page.locator('[data-testid="message"][data-role="assistant"]').last()
    await saved.getByTestId('message-body').filter({ hasText: 'Fuga de agua en bodega 3' }).waitFor()
    expect(await page.locator('[data-testid="message"]').count()).toBe(2)
    await expect.poll(() => saved.getByTestId('tool-line').count()).toBe(1)
    expect(await saved.getByTestId('tool-line').getAttribute('data-status')).toBe('done')
    expect(await saved.getByTestId('tool-line').textContent()).toBe('Consulté tus reportes')
  })

  it('a call the worker may not make ends as "No pude leer el reporte", with no link and nothing of the report', async () => {
    fake.reset().set({
      delayMs: 20,
      // the model asks for another worker's report: the scope refuses it
      toolCalls: body => (lastMessageOf(body)?.role === 'user' ? [{ name: 'get_report', arguments: { id: othersReportId } }] : null),
      reply: (body) => {
        if (isTitleCall(body)) return 'Reporte'
        const [read] = toolResultsOf(body)
        return read?.result?.error ? 'No tengo acceso a ese reporte.' : `Leí: ${JSON.stringify(read?.result)}`
      },
    })
    const page = await open('es-CL')
    await signIn(page, 'Iniciar sesión')
    const composer = page.getByTestId('composer')
    await composer.fill('¿qué dice el reporte de la luz del pasillo?')
    await composer.press('Enter')

    const answer = page.locator('[data-testid="message"][data-role="assistant"]').last()
    await answer.and(page.locator('[data-status="complete"]')).waitFor()
    const line = answer.getByTestId('tool-line')
    await expect.poll(() => line.getAttribute('data-status')).toBe('error')
    expect(await line.textContent()).toBe('No pude leer el reporte')
    expect(await line.getByTestId('tool-report-link').count()).toBe(0)
    expect(await answer.getByTestId('message-body').textContent()).toContain('No tengo acceso a ese reporte.')
    expect(await answer.textContent()).not.toContain('Luz quemada')
  })

  it('a report the assistant files is linked from its line, and the link opens it', async () => {
    fake.reset().set({
      delayMs: 20,
      toolCalls: body => (lastMessageOf(body)?.role === 'user' ? [{ name: 'create_report', arguments: { title: 'Derrame de aceite en taller', content: 'Junto a la prensa 2' } }] : null),
      reply: (body) => {
        if (isTitleCall(body)) return 'Derrame'
        const [filed] = toolResultsOf(body)
        return filed ? `Listo, registré «${filed.result.created.title}».` : 'No registré nada.'
      },
    })
    const page = await open('es-CL')
    await signIn(page, 'Iniciar sesión')
    const composer = page.getByTestId('composer')
    await composer.fill('hay un derrame de aceite junto a la prensa 2, repórtalo')
    await composer.press('Enter')

    const answer = page.locator('[data-testid="message"][data-role="assistant"]').last()
    await answer.and(page.locator('[data-status="complete"]')).waitFor()
    const line = answer.getByTestId('tool-line')
    await expect.poll(() => line.getAttribute('data-status')).toBe('done')
    expect(await line.textContent()).toContain('Registré el reporte')
    const link = line.getByTestId('tool-report-link')
    await link.waitFor()
    expect(await link.textContent()).toBe('Ver reporte')
    await screenshot(page, 'assistant-filed-report-1280')

    // the same link after a reload, from the saved answer
    await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/)
    const conversationUrl = page.url()
    await page.reload()
    const savedLink = page.locator('[data-testid="message"][data-role="assistant"]').last().getByTestId('tool-report-link')
    await savedLink.waitFor()
    await savedLink.click()
    await page.waitForURL(/\/reports\/[0-9a-f-]{36}$/)
    await expect.poll(() => page.getByTestId('report-title').textContent()).toBe('Derrame de aceite en taller')
    // the report and its row in the list say the assistant filed it
    expect(await page.getByTestId('report-filed-via').textContent()).toBe('vía el asistente')
    const row = page.locator('[data-testid="report-row"]').filter({ hasText: 'Derrame de aceite en taller' })
    await expect.poll(() => row.getByTestId('report-row-filed-via').textContent()).toBe('vía el asistente')
    expect(await page.locator('[data-testid="report-row"]').filter({ hasText: 'Fuga de agua en bodega 3' }).getByTestId('report-row-filed-via').count()).toBe(0)
    await screenshot(page, 'assistant-filed-report-detail-1280')

    // staff reading the conversation see what the assistant did, and the report opens in their queue
    const conversationId = /\/chat\/([0-9a-f-]{36})/.exec(conversationUrl)![1]!
    const admin = await open('es-CL')
    await admin.goto('/login')
    await admin.locator('input[autocomplete="username"]').fill(DEMO.admin.email)
    await admin.locator('input[autocomplete="current-password"]').fill(DEMO.admin.password)
    await admin.getByRole('button', { name: 'Iniciar sesión' }).click()
    await admin.waitForURL(/\/chat\/?$/)
    const workerId = (await admin.evaluate(async (email) => {
      const users = (await (await fetch(`/api/admin/users?q=${encodeURIComponent(email)}`)).json()) as { data: Array<{ id: string, email: string }> }
      return users.data.find(u => u.email === email)!.id
    }, DEMO.worker.email))
    await admin.goto(`/admin?user=${workerId}&conversation=${conversationId}`)
    const staffLine = admin.getByTestId('admin-tool-line')
    await staffLine.waitFor()
    expect(await staffLine.getAttribute('data-tool')).toBe('create_report')
    expect(await staffLine.textContent()).toContain('Registró un reporte')
    await screenshot(admin, 'admin-tool-line-1280')
    await admin.getByTestId('admin-tool-report-link').click()
    await admin.waitForURL(/\/admin\/reports\?id=[0-9a-f-]{36}$/)
    await expect.poll(() => admin.getByTestId('report-title').textContent()).toBe('Derrame de aceite en taller')
  })

  it('in English the ended tool line reads "Checked your reports"', async () => {
    reportsModel()
    const page = await open('es-CL')
    await signIn(page, 'Sign in')
    // the app's own starter prompts and its seeded system prompt speak the reader's language too
    await expect.poll(() => page.getByTestId('starter-prompt').allTextContents()).toEqual([
      'Summarise the lockout-tagout (LOTO) procedure in 5 points.',
      'Draft an email reporting a fault at the substation.',
      'Explain the difference between active and reactive power.',
    ])
    await expect.poll(() => page.getByTestId('system-prompt-picker').locator('option').allTextContents()).toContain('General assistant')
    const composer = page.getByTestId('composer')
    await composer.fill('how are my reports going?')
    await composer.press('Enter')
    const line = page.locator('[data-testid="message"][data-role="assistant"]').last().getByTestId('tool-line')
    await expect.poll(() => line.getAttribute('data-status')).toBe('done')
    await expect.poll(() => line.textContent()).toBe('Checked your reports')
  })
})
