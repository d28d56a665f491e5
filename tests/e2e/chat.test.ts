import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { assistantMessages, lastAnswer, launchBrowser, screenshot, send, settled, SETTLE_MS, signIn, trackTabs } from '../support/browser'
import { dbQuery } from '../support/db'
import { FakeOllama } from '../support/fake-ollama'
import { Client, GOOD_PASSWORD, uniqueEmail } from '../support/http'
import { createTestDatabase, type RunningServer, startServer, type TestDatabase } from '../support/server'

// The chat screen against the real server and a fake Ollama: streaming, stop, regenerate, rename, search,
// reload, unsafe answers rendered inert, and the model-down banner (the project's shared server has Ollama on
// a closed port).


const WORKER = { email: 'trabajador@example.com', password: 'worker123' }
const isTitleCall = (body: any) => String(body?.messages?.[0]?.content ?? '').includes('título breve')
const questionOf = (body: any) => String(body?.messages?.at(-1)?.content ?? '')

let fake: FakeOllama
let db: TestDatabase
let server: RunningServer
let browser: Browser
/** What the fake model answers to the next chat messages (the title call is answered separately). */
let answer: (question: string) => string = () => 'Hola, soy un modelo de prueba.'

beforeAll(async () => {
  fake = await new FakeOllama().start()
  db = await createTestDatabase('sqlite')
  server = await startServer({ DATABASE_URL: db.url, OLLAMA_HOST: fake.url, CHAT_RATE_LIMIT: '1000/1m' })
  browser = await launchBrowser()
})

afterAll(async () => {
  await browser?.close()
  await server?.stop()
  await db?.drop()
  await fake?.close()
})

const tabs = trackTabs(() => browser, { clipboard: true })
afterEach(() => tabs.closeAll())

/** A fresh signed-out browser context on `baseUrl`. */
async function open(baseUrl: string, width = 1280, height = 800, allow: RegExp[] = []) {
  return (await tabs.open({ baseUrl, width, height, allow })).page
}

function useModel(reply: (question: string) => string, delayMs = 0) {
  answer = reply
  fake.reset().set({ delayMs, reply: body => (isTitleCall(body) ? `Sobre ${questionOf(body).replace(/^Pregunta: /, '').split(/\s+/).slice(0, 3).join(' ')}` : answer(questionOf(body))) })
}

describe('chat screen', () => {
  it('signs in, sends a message and shows the answer growing token by token, then titles the conversation', async () => {
    const words = Array.from({ length: 40 }, (_, i) => `palabra${i}`)
    // 40 tokens 120 ms apart, held after the first 10 until the test has seen them: a loaded machine could spend the
    // whole ~5 s stream on the steps before the sampling, which then saw it finished
    useModel(() => words.join(' '), 120)
    const held = fake.gate()
    fake.set({ gate: held.gate, gateAfter: 10 })
    const page = await open(server.url)
    await signIn(page, WORKER)
    await page.getByRole('heading', { name: '¿En qué te ayudo hoy?' }).waitFor()
    await expect.poll(() => page.getByTestId('model-picker').inputValue()).toBe('qwen2.5:3b-instruct')
    await screenshot(page, 'chat-new-1280')

    await send(page, 'Hola, ¿quién eres?')
    await expect.poll(() => page.getByTestId('composer').inputValue()).toBe('')
    await page.locator('[data-testid="message"][data-role="user"]', { hasText: 'Hola, ¿quién eres?' }).waitFor()
    await page.getByTestId('generating').waitFor()
    await expect.poll(() => page.getByTestId('generating').textContent()).toContain('generando…')
    await page.getByTestId('stop').waitFor()

    // a part of the answer is on screen while it streams; once let go it grows through at least one more length
    // before the whole (the remaining 30 tokens take ≥ 3.6 s, and the page is polled every 100 ms)
    const body = lastAnswer(page).getByTestId('message-body')
    const partial = words.slice(0, 10).join(' ')
    await expect.poll(() => body.textContent().then(text => text?.trim())).toBe(partial)
    held.open()
    let growing = 0
    await expect.poll(async () => (growing = (await body.textContent())?.trim().length ?? 0)).toBeGreaterThan(partial.length)
    expect(growing).toBeLessThan(words.join(' ').length)

    await lastAnswer(page).and(page.locator('[data-status="complete"]')).waitFor()
    await expect.poll(() => body.textContent().then(text => text?.trim())).toBe(words.join(' '))
    await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/)
    await page.getByTestId('conversation-item').filter({ hasText: 'Sobre Hola, ¿quién eres?' }).waitFor()
    await expect.poll(() => page.getByTestId('conversation-title').textContent()).toBe('Sobre Hola, ¿quién eres?')
    await page.getByTestId('send').waitFor()
  })

  it('a title that comes after done (slow title call) still names the conversation; the answer settles first', async () => {
    useModel(() => 'Respuesta rápida.')
    // the title call is held until the answer has settled on screen (it used to take a fixed 12 s, which a loaded
    // machine could outlast, and every run waited out): the server sends done first and the title on the same
    // stream afterwards
    const title = fake.gate()
    fake.set({ gateFor: body => (isTitleCall(body) ? title.gate : null) })
    const page = await open(server.url)
    await signIn(page, WORKER)
    await send(page, 'Título tardío por favor')
    await lastAnswer(page).and(page.locator('[data-status="complete"]')).waitFor()
    await page.getByTestId('send').waitFor()
    // settled while the title call is still running
    await fake.waitFor(requests => requests.some(r => isTitleCall(r.body)), SETTLE_MS)
    expect(fake.chatRequests.find(r => isTitleCall(r.body))?.completed).toBe(false)
    await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/)
    title.open()
    await expect.poll(() => page.getByTestId('conversation-title').textContent()).toBe('Sobre Título tardío por')
    await page.getByTestId('conversation-item').filter({ hasText: 'Sobre Título tardío por' }).waitFor()
  })

  it('a new conversation answered before its address changes is not loaded again (its exchange stays on screen)', async () => {
    // an instant model: the stream ends before the page's address names the new conversation
    useModel(() => 'Al instante.', 0)
    const page = await open(server.url)
    await signIn(page, WORKER)
    const reloads: string[] = []
    page.on('request', (request) => { if (/\/api\/conversations\/[0-9a-f-]{36}\/messages/.test(request.url())) reloads.push(request.url()) })
    for (const question of ['Primera instantánea', 'Segunda instantánea', 'Tercera instantánea']) {
      await page.getByTestId('new-chat').click()
      await page.waitForURL(/\/chat\/?$/)
      await send(page, question)
      await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/)
      await expect.poll(() => lastAnswer(page).and(page.locator('[data-status="complete"]')).getByTestId('message-body').textContent().then(text => text?.trim())).toBe('Al instante.')
    }
    // a reload would have been requested as the address changed: one more round trip from the page comes after it
    expect(await page.evaluate(() => fetch('/api/health').then(response => response.status))).toBe(200)
    expect(reloads).toEqual([])
  })

  it('a rename in one tab shows at once in the same user\'s other tab (list and header)', async () => {
    useModel(() => 'Respuesta breve.', 5)
    const first = await open(server.url)
    await signIn(first, WORKER)
    await send(first, 'Consulta vista desde dos pestañas')
    await lastAnswer(first).and(first.locator('[data-status="complete"]')).waitFor()
    await first.waitForURL(/\/chat\/[0-9a-f-]{36}$/)
    const id = new URL(first.url()).pathname.split('/').pop()!

    const second = await open(server.url)
    await signIn(second, WORKER)
    // the live stream subscribes before it answers: once its response is in, a rename cannot be missed
    const listening = second.waitForResponse(response => new URL(response.url()).pathname === '/api/events')
    await second.goto(`/chat/${id}`)
    await listening
    await second.locator('[data-testid="message"][data-role="user"]', { hasText: 'dos pestañas' }).waitFor()

    expect((await first.request.patch(`/api/conversations/${id}`, { data: { title: 'Renombrada en la otra pestaña' } })).status()).toBe(200)
    await expect.poll(() => second.getByTestId('conversation-title').textContent()).toBe('Renombrada en la otra pestaña')
    await second.getByTestId('conversation-item').filter({ hasText: 'Renombrada en la otra pestaña' }).waitFor()
  })

  it('a message sent right after Stop is answered at once, and the stopped answer shows exactly the text that was saved', async () => {
    useModel(() => Array.from({ length: 400 }, (_, i) => `p${i}`).join(' '), 40)
    const page = await open(server.url)
    await signIn(page, WORKER)
    const statuses: number[] = []
    page.on('response', (response) => { if (new URL(response.url()).pathname === '/api/chat') statuses.push(response.status()) })
    await send(page, 'Una consulta que se detiene')
    await page.getByTestId('generating').waitFor()
    await expect.poll(async () => (await lastAnswer(page).getByTestId('message-body').textContent().catch(() => ''))?.length ?? 0).toBeGreaterThan(20)
    await page.getByTestId('stop').click()
    await lastAnswer(page).and(page.locator('[data-status="stopped"]')).waitFor()
    await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/)
    const id = new URL(page.url()).pathname.split('/').pop()!
    const shown = (await lastAnswer(page).getByTestId('message-body').textContent())!.trim()

    // at once: the stopped stream ended only after the server saved the answer and freed the user (no 429, no wait)
    useModel(() => 'Segunda respuesta.', 5)
    await send(page, 'La siguiente consulta')
    await expect.poll(() => lastAnswer(page).and(page.locator('[data-status="complete"]')).getByTestId('message-body').textContent().then(text => text?.trim())).toBe('Segunda respuesta.')
    expect(statuses).toEqual([200, 200])
    const saved = (await (await page.request.get(`/api/conversations/${id}/messages`)).json()).data as Array<{ role: string, status: string, content: string }>
    expect(saved.map(m => `${m.role}:${m.status}`)).toEqual(['user:complete', 'assistant:stopped', 'user:complete', 'assistant:complete'])
    expect(saved[1]!.content.trim()).toBe(shown)
  })

  it('an answer stopped from another device is shown as stopped here', async () => {
    useModel(() => Array.from({ length: 400 }, (_, i) => `q${i}`).join(' '), 40)
    const page = await open(server.url)
    await signIn(page, WORKER)
    await send(page, 'Una consulta detenida desde el teléfono')
    await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/)
    await expect.poll(async () => (await lastAnswer(page).getByTestId('message-body').textContent().catch(() => ''))?.length ?? 0).toBeGreaterThan(20)
    const id = new URL(page.url()).pathname.split('/').pop()!
    // the phone: the same user's stop route (a request of its own, not this page's button)
    expect((await page.request.post(`/api/chat/${id}/stop`)).status()).toBe(204)
    await lastAnswer(page).and(page.locator('[data-status="stopped"]')).waitFor()
    await expect.poll(() => lastAnswer(page).getByTestId('message-status').textContent()).toBe('Detenida')
  })

  it('stops an answer (kept as stopped), regenerates it, renames, searches, and finds it again after a reload', async () => {
    useModel(() => Array.from({ length: 400 }, (_, i) => `t${i}`).join(' '), 40)
    const page = await open(server.url)
    await signIn(page, WORKER)
    await send(page, 'Explica el mantenimiento preventivo de transformadores')
    await page.getByTestId('generating').waitFor()
    await expect.poll(async () => (await lastAnswer(page).getByTestId('message-body').textContent().catch(() => ''))?.length ?? 0).toBeGreaterThan(20)
    await page.getByTestId('stop').click()

    await lastAnswer(page).and(page.locator('[data-status="stopped"]')).waitFor()
    await expect.poll(() => lastAnswer(page).getByTestId('message-status').textContent()).toBe('Detenida')
    await fake.waitFor(requests => requests.some(r => r.path === '/api/chat' && r.aborted), SETTLE_MS)
    const id = new URL(page.url()).pathname.split('/').pop()!
    // the server names a stopped first exchange after its stream ended: the title arrives as a live event
    await expect.poll(() => page.getByTestId('conversation-title').textContent()).toBe('Explica el mantenimiento preventivo de transformadores')

    // the server saved the partial answer as stopped
    await expect.poll(async () => {
      const res = await page.request.get(`/api/conversations/${id}/messages`)
      return (await res.json()).data.map((m: { role: string, status: string }) => `${m.role}:${m.status}`)
    }).toEqual(['user:complete', 'assistant:stopped'])

    useModel(() => 'Una respuesta **nueva** y completa.', 10)
    await lastAnswer(page).getByTestId('regenerate').click()
    await lastAnswer(page).and(page.locator('[data-status="complete"]')).waitFor()
    await expect.poll(() => lastAnswer(page).getByTestId('message-body').innerHTML()).toContain('<strong>nueva</strong>')
    await expect.poll(() => assistantMessages(page).count()).toBe(1)

    // rename through the conversation's menu, by keyboard only
    const item = page.getByTestId('conversation-item').filter({ has: page.locator(`[data-conversation="${id}"]`) })
    await item.getByRole('button', { name: /Acciones para/ }).focus()
    await page.keyboard.press('Enter')
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Renombrar')
    await page.keyboard.press('ArrowDown')
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Fijar')
    await page.keyboard.press('ArrowUp')
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe('Renombrar')
    await page.keyboard.press('Enter')
    const input = page.getByLabel('Título de la conversación')
    await expect.poll(() => input.evaluate(el => el === document.activeElement)).toBe(true)
    await page.keyboard.press('ControlOrMeta+a')
    await page.keyboard.type('Plan de mantención 2025')
    await page.keyboard.press('Enter')
    await page.getByTestId('conversation-item').filter({ hasText: 'Plan de mantención 2025' }).waitFor()
    await expect.poll(() => page.getByTestId('conversation-title').textContent()).toBe('Plan de mantención 2025')

    // search by title and by message text; a miss says so
    const search = page.getByRole('searchbox', { name: 'Buscar conversaciones' })
    await search.fill('mantención 2025')
    await expect.poll(() => page.getByTestId('conversation-item').allTextContents()).toEqual([expect.stringContaining('Plan de mantención 2025')])
    // the whole list again in between: otherwise the next check would pass on this search's result, not its own
    await search.fill('')
    await expect.poll(() => page.getByTestId('conversation-item').count()).toBeGreaterThanOrEqual(2)
    await search.fill('transformadores')
    await expect.poll(() => page.getByTestId('conversation-item').allTextContents()).toEqual([expect.stringContaining('Plan de mantención 2025')])
    await search.fill('zzz-nada')
    await page.getByText('Nada coincide con «zzz-nada».').waitFor()
    await page.getByRole('button', { name: 'Limpiar búsqueda' }).click()
    await expect.poll(() => page.getByTestId('conversation-item').count()).toBeGreaterThanOrEqual(2)

    await page.reload()
    await page.waitForURL(`**/chat/${id}`)
    await page.locator('[data-testid="message"][data-role="user"]', { hasText: 'mantenimiento preventivo' }).waitFor()
    await lastAnswer(page).getByTestId('message-body').locator('strong', { hasText: 'nueva' }).waitFor()
    await expect.poll(() => lastAnswer(page).getByTestId('message-body').textContent().then(text => text?.trim())).toBe('Una respuesta nueva y completa.')
    await expect.poll(() => page.getByTestId('conversation-title').textContent()).toBe('Plan de mantención 2025')
    await expect.poll(() => page.locator(`[data-conversation="${id}"]`).getAttribute('aria-current')).toBe('page')
  })

  it('shows an answer with HTML, a javascript: link and an image as inert text', async () => {
    useModel(() => 'Mira <script>alert(1)</script> y [x](javascript:alert(1)) y <img src=x onerror=alert(2)> y ![foto](https://example.com/a.png) y [docs](https://example.com/docs)\n\n```html\n<script>alert(3)</script>\n```')
    const page = await open(server.url)
    await signIn(page, WORKER)
    await send(page, 'Muéstrame HTML peligroso')
    await lastAnswer(page).and(page.locator('[data-status="complete"]')).waitFor()
    const body = lastAnswer(page).getByTestId('message-body')
    await body.locator('.md-code').waitFor()

    await expect(body.locator('script, img, iframe, [onerror]').count()).resolves.toBe(0)
    await expect(page.locator('[data-testid="message"] script').count()).resolves.toBe(0)
    const hrefs = await body.locator('a').evaluateAll(links => links.map(a => a.getAttribute('href')))
    expect(hrefs).toEqual(['https://example.com/a.png', 'https://example.com/docs'])
    await expect(body.locator('a').first().getAttribute('rel')).resolves.toBe('noopener noreferrer')
    await expect(body.locator('a').first().getAttribute('target')).resolves.toBe('_blank')
    const text = await body.textContent()
    expect(text).toContain('<script>alert(1)</script>')
    expect(text).toContain('[x](javascript:alert(1))')

    // the code block's copy button copies the code, not the page
    await body.getByRole('button', { name: 'Copiar' }).click()
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe('<script>alert(3)</script>\n')
    await screenshot(page, 'chat-unsafe-1280')
  })

  it('DOMPurify, the second guard, cleans raw HTML in a real DOM', async () => {
    const { build } = await import('esbuild')
    const bundle = await build({
      stdin: { contents: `import createPurify from 'dompurify'; import { createSanitizer } from './utils/markdown'; window.__sanitize = createSanitizer(createPurify(window))`, resolveDir: process.cwd(), loader: 'ts' },
      bundle: true,
      format: 'iife',
      write: false,
      logLevel: 'silent',
    })
    const page = await open(server.url)
    await page.setContent('<!doctype html><html><body></body></html>')
    await page.addScriptTag({ content: bundle.outputFiles[0]!.text })
    const clean = await page.evaluate(() => (window as any).__sanitize([
      '<p onclick="alert(1)">a</p><script>alert(1)</script><img src=x onerror=alert(1)>',
      '<a href="javascript:alert(1)">j</a><a href="data:text/html,x">d</a><a href=" JAVASCRIPT:alert(1)">s</a>',
      '<a href="https://example.com">ok</a><iframe src="https://x"></iframe><style>*{}</style><svg onload=alert(1)></svg>',
      '<form action="https://x"><input></form><p style="position:fixed">s</p>',
    ].join('')))
    expect(clean).not.toMatch(/<script|<img|<iframe|<style|<svg|<form|<input|onclick|onerror|onload|style=|javascript:|data:/i)
    expect(clean).toContain('<a href="https://example.com" target="_blank" rel="noopener noreferrer">ok</a>')
    expect(clean).toContain('<a target="_blank" rel="noopener noreferrer">j</a>')
  })

  it('keeps paging: a long conversation opens at its newest messages and loads older ones when scrolled up', async () => {
    useModel(() => 'ok')
    const page = await open(server.url)
    await signIn(page, WORKER)
    // 60 exchanges through the API (the fake answers instantly)
    let conversationId: string | undefined
    for (let i = 0; i < 60; i++) {
      const res = await page.request.post('/api/chat', { data: { message: `pregunta número ${i}`, ...(conversationId ? { conversationId } : {}) } })
      const meta = /event: meta\ndata: (.*)\n/.exec(await res.text())
      conversationId ??= JSON.parse(meta![1]!).conversationId
    }
    await page.goto(`/chat/${conversationId}`)
    await page.locator('[data-testid="message"]', { hasText: 'pregunta número 59' }).waitFor()
    await expect(page.locator('[data-testid="message"]').count()).resolves.toBeLessThanOrEqual(60)
    await expect(page.locator('[data-testid="message"]', { hasText: 'pregunta número 0' }).count()).resolves.toBe(0)
    // the newest messages mount first and the rest of the first page (50) goes in above them, a few per task; the
    // conversation stays open at its end, the newest exchange in view
    await expect.poll(() => page.locator('[data-testid="message"]').count()).toBe(50)
    const list = page.getByTestId('message-list')
    await expect.poll(() => list.evaluate(el => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(80)
    expect(await list.evaluate(el => el.scrollHeight - el.clientHeight)).toBeGreaterThan(500)

    // scrolled to the top: the previous page goes in above without moving what the reader sees
    const anchor = page.locator('[data-testid="message"]', { hasText: /pregunta número 35$/ })
    await list.evaluate(el => el.scrollTo(0, 0))
    const before = (await anchor.boundingBox())!.y
    await page.locator('[data-testid="message"]', { hasText: /pregunta número 10$/ }).waitFor({ state: 'attached' })
    // measured once the page has settled: the load is over and the browser has laid out and painted it
    await settled(page)
    expect(Math.abs((await anchor.boundingBox())!.y - before)).toBeLessThan(5)
    await expect(list.evaluate(el => el.scrollTop)).resolves.toBeGreaterThan(500)

    await list.evaluate(el => el.scrollTo(0, 0))
    await page.locator('[data-testid="message"]', { hasText: /pregunta número 0$/ }).waitFor({ state: 'attached' })
    await expect.poll(() => page.locator('[data-testid="message"]').count()).toBe(120)
    await page.getByText('Inicio de la conversación').waitFor()
  })

  it('a signed-out visit to a conversation\'s address asks the server nothing about it, signs in, then opens it', async () => {
    useModel(() => 'respuesta guardada')
    const owner = new Client(server.url)
    await owner.login(WORKER.email, WORKER.password)
    const meta = /event: meta\ndata: (.*)\n/.exec((await owner.post('/api/chat', { message: 'pregunta para después' })).text)
    const conversationId = JSON.parse(meta![1]!).conversationId as string
    const page = await open(server.url)
    const asked: string[] = []
    page.on('request', r => asked.push(new URL(r.url()).pathname))
    await page.goto(`/chat/${conversationId}`)
    await page.waitForURL(url => url.pathname === '/login' && url.searchParams.get('redirect') === `/chat/${conversationId}`)
    expect(asked.filter(p => p.startsWith('/api/conversations'))).toEqual([])
    await signIn(page, WORKER, { goto: false, landing: `/chat/${conversationId}` })
    await page.locator('[data-testid="message"]', { hasText: 'respuesta guardada' }).waitFor()
  })

  it('shows the queue position while another user\'s answer holds the only model slot', async () => {
    // the other user's answer holds the slot until this user has seen their place in the queue (it used to take a
    // fixed ~6 s, which a loaded machine could spend before the message even left: then there was no queue to see)
    useModel(question => (question.includes('larga') ? 'Una respuesta larga.' : 'Ahora sí te toca.'))
    const long = fake.gate()
    fake.set({ gateFor: body => (questionOf(body).includes('larga') ? long.gate : null) })
    // signed in first: the slot is taken only when the message is about to be sent
    const page = await open(server.url)
    await signIn(page, WORKER)
    const other = new Client(server.url)
    await other.post('/api/auth/register', { email: uniqueEmail('cola'), password: GOOD_PASSWORD, fullName: 'Otra Persona' })
    const busy = other.post('/api/chat', { message: 'Una respuesta larga, por favor' })
    await fake.waitFor(requests => requests.some(r => r.path === '/api/chat' && !r.completed), SETTLE_MS)

    await send(page, '¿Me toca?')
    await page.getByText('En cola: posición 1').waitFor()
    long.open()
    await expect(busy.then(res => res.status)).resolves.toBe(200)
    await lastAnswer(page).and(page.locator('[data-status="complete"]')).waitFor({ timeout: SETTLE_MS })
    await expect(page.getByText('En cola: posición 1').count()).resolves.toBe(0)
  })

  it('keeps the sidebar small and smooth with 5,000 conversations: pages load on scroll, few rows in the DOM', async () => {
    const page = await open(server.url)
    const email = uniqueEmail('muchas')
    const registered = await page.request.post('/api/auth/register', { data: { email, password: GOOD_PASSWORD, fullName: 'Muchas Conversaciones' } })
    expect(registered.status()).toBe(201)
    const { user } = await registered.json()
    const now = Date.now()
    for (let chunk = 0; chunk < 10; chunk++) {
      const rows = Array.from({ length: 500 }, (_, j) => {
        const n = chunk * 500 + j
        // newest first: a few today, some yesterday, the rest spread over the past months
        const at = now - (n < 5 ? n * 60_000 : n < 15 ? 86_400_000 + n * 1000 : 2 * 86_400_000 + n * 3_600_000)
        return [crypto.randomUUID(), user.id, `Conversación número ${n}`, 'qwen2.5:3b-instruct', n % 1000 === 7 ? 1 : 0, 0, at, at]
      })
      await dbQuery(`insert into conversations (id, user_id, title, model, pinned, archived, created_at, updated_at) values ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`, rows.flat(), db.url)
    }

    await page.goto('/chat')
    await page.getByTestId('conversation-item').first().waitFor()
    const list = page.getByTestId('conversation-list')
    await expect.poll(async () => (await list.locator('.chat-list__header').allTextContents()).map(h => h.trim())).toEqual(['Fijadas', 'Hoy', 'Ayer', 'Anteriores'])
    await expect.poll(() => page.getByTestId('conversation-item').first().textContent()).toContain('Conversación número 7')

    // scroll down page after page: more conversations load, the DOM stays a small window
    for (let i = 0; i < 8; i++) {
      const height = await list.evaluate(el => el.scrollHeight)
      const more = page.waitForResponse(res => res.url().includes('/api/conversations?') && res.url().includes('offset='))
      await list.evaluate(el => el.scrollTo(0, el.scrollHeight))
      await more
      // the page is in the list (it grew) before the next scroll: scrolling to an unchanged bottom loads nothing
      await expect.poll(() => list.evaluate(el => el.scrollHeight)).toBeGreaterThan(height)
    }
    await expect.poll(() => list.evaluate(el => el.scrollHeight)).toBeGreaterThan(400 * 44)
    await expect(page.getByTestId('conversation-item').count()).resolves.toBeLessThan(50)

    // scrolling through what is loaded keeps frames short: a frame that scrolls costs under 50 ms more than a frame
    // that does nothing, measured in turns so both see the same machine. The bare interval (once bounded by 50 ms
    // alone) measures the machine too: CI at load 30 on 2 cores saw an 83 ms median with the list still virtual
    const { scrolled, idle } = await list.evaluate(async (el) => {
      // each frame starts where the previous one ended (one rAF per sample, as before: a loaded machine makes them slow)
      let last = performance.now()
      const frame = async (change: () => void) => {
        change()
        await new Promise(resolve => requestAnimationFrame(resolve))
        const took = performance.now() - last
        last = performance.now()
        return took
      }
      const median = (times: number[]) => times.sort((a, b) => a - b)[Math.floor(times.length / 2)]!
      const scrolled: number[] = []
      const idle: number[] = []
      el.scrollTop = 0
      await frame(() => {})
      for (let i = 0; i < 40; i++) {
        scrolled.push(await frame(() => { el.scrollTop += 250 }))
        idle.push(await frame(() => {}))
      }
      return { scrolled: median(scrolled), idle: median(idle) }
    })
    expect(scrolled - idle, `scrolling frame ${scrolled} ms, idle frame ${idle} ms`).toBeLessThan(50)
    await expect(page.getByTestId('conversation-item').count()).resolves.toBeLessThan(50)

    // search goes to the server, whatever is loaded
    await page.getByRole('searchbox', { name: 'Buscar conversaciones' }).fill('número 4321')
    await expect.poll(() => page.getByTestId('conversation-item').allTextContents()).toEqual(['Conversación número 4321'])
  })

  it('takes screenshots of the conversation at 1280 px and 360 px (drawer open and closed)', async () => {
    useModel(() => [
      '## Plan de revisión',
      '',
      'Revisa estos puntos **antes** de cada turno:',
      '',
      '1. Nivel de aceite del transformador',
      '2. Temperatura de los devanados',
      '3. Estado de los aisladores',
      '',
      '| Equipo | Frecuencia |',
      '|---|---|',
      '| Transformador | Mensual |',
      '| Interruptor | Trimestral |',
      '',
      '```python',
      'def alerta(temp: float) -> bool:',
      '    return temp > 85  # grados Celsius',
      '```',
      '',
      'Más detalles en https://example.com/manual.',
    ].join('\n'))
    const desktop = await open(server.url, 1280, 800)
    await signIn(desktop, WORKER)
    await send(desktop, '¿Qué debo revisar en la subestación?')
    await lastAnswer(desktop).and(desktop.locator('[data-status="complete"]')).waitFor()
    await lastAnswer(desktop).locator('.hljs-keyword').first().waitFor()
    // highlight.js ran in its worker, off the page's main thread
    expect(desktop.workers().map(worker => worker.url())).toEqual(expect.arrayContaining([expect.stringMatching(/\/highlight\.worker-[\w-]+\.js$/)]))
    await screenshot(desktop, 'chat-1280')
    const url = desktop.url()

    const mobile = await open(server.url, 360, 740)
    await signIn(mobile, WORKER)
    // a browser that cannot start the worker still gets coloured code, from the main thread
    await mobile.context().addInitScript(() => { delete (window as { Worker?: unknown }).Worker })
    await mobile.goto(url)
    await lastAnswer(mobile).and(mobile.locator('[data-status="complete"]')).waitFor()
    await lastAnswer(mobile).locator('.hljs-keyword').first().waitFor()
    expect(mobile.workers()).toEqual([])
    await expect(mobile.evaluate(() => document.documentElement.scrollWidth)).resolves.toBeLessThanOrEqual(360)
    await screenshot(mobile, 'chat-360')
    // a phone mounts what it shows: the closed drawer's list and the top bar's links (the messages icon instead) are
    // not in the page until needed; a desktop has both the list and the links
    expect(await mobile.getByTestId('conversation-list').count()).toBe(0)
    expect(await mobile.locator('.topbar__nav').count()).toBe(0)
    await mobile.getByTestId('nav-messages-phone').waitFor()
    expect(await desktop.getByTestId('conversation-list').count()).toBe(1)
    expect(await desktop.getByTestId('nav-messages-phone').count()).toBe(0)
    await mobile.getByTestId('open-conversations').click()
    await mobile.getByTestId('conversation-item').first().waitFor()
    // the drawer has finished sliding in
    await settled(mobile)
    await screenshot(mobile, 'chat-360-drawer')
    await mobile.keyboard.press('Escape')
    await expect.poll(() => mobile.getByTestId('conversation-list').isVisible()).toBe(false)
    await expect.poll(() => mobile.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('open-conversations')
  })
})

describe('chat screen with the model server down', () => {
  it('shows the banner without the internal model server address, keeps the message in history and offers Retry', async () => {
    // the project's shared test server points OLLAMA_HOST at a closed port
    const page = await open(inject('baseUrl'), 1280, 800, [/status of 503/])
    await signIn(page, WORKER)
    const banner = page.getByTestId('model-unavailable')
    await banner.waitFor()
    await expect.poll(() => banner.textContent()).toMatch(/El modelo no está disponible\./)
    // the model server's address is internal: no screen shows it (issue #15 item 9, #13)
    expect(await banner.textContent()).not.toContain('127.0.0.1:9')

    await send(page, 'Mensaje que no debe perderse')
    await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/)
    await page.locator('[data-testid="message"][data-role="user"]', { hasText: 'Mensaje que no debe perderse' }).waitFor()
    await banner.getByRole('button', { name: 'Reintentar' }).waitFor()
    await expect.poll(() => banner.textContent()).toContain('Tu mensaje quedó guardado')
    // one button answers the saved question: the banner's, not also the list's "Generar respuesta"
    expect(await page.getByTestId('generate-answer').count()).toBe(0)
    await screenshot(page, 'chat-ollama-down-1280')

    const retried = page.waitForResponse(res => res.url().endsWith('/api/chat'))
    await banner.getByRole('button', { name: 'Reintentar' }).click()
    await expect(retried.then(res => res.status())).resolves.toBe(503)
    await expect.poll(() => assistantMessages(page).count()).toBe(0)
    await page.getByTestId('model-unavailable').waitFor()

    await page.reload()
    await page.locator('[data-testid="message"][data-role="user"]', { hasText: 'Mensaje que no debe perderse' }).waitFor()
    await expect(page.locator('[data-testid="message"][data-role="user"]').count()).resolves.toBe(1)
    // reopened, the banner only checks the server again: the question's own button is back
    await page.getByTestId('generate-answer').waitFor()
    await banner.getByRole('button', { name: 'Comprobar de nuevo' }).waitFor()
    await page.getByTestId('conversation-item').first().waitFor()
  })
})
