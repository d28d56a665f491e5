import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { lastAnswer, launchBrowser, screenshot, send, settled, signIn, trackTabs } from '../support/browser'
import { FakeOllama } from '../support/fake-ollama'
import { createTestDatabase, type RunningServer, startServer, type TestDatabase } from '../support/server'

// Issue 13 items 1 and 4 in Chromium: an unanswered question offers "Generar respuesta" (and its conversation is
// named from it), answers fit a phone (tables scroll sideways, numbers right-aligned), very long messages fold
// behind "Mostrar más", and "Ir al final" appears while the reader reads above a streaming answer.

const WORKER = { email: 'trabajador@example.com', password: 'worker123' }
const isTitleCall = (body: any) => String(body?.messages?.[0]?.content ?? '').includes('título breve')
const SIZES = [[360, 740], [768, 1024], [1280, 800]] as const

let fake: FakeOllama
let db: TestDatabase
let server: RunningServer
let browser: Browser

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

// the 503 of the outage test is expected in the console
const tabs = trackTabs(() => browser, { allow: [/status of 503/] })
afterEach(() => tabs.closeAll())

/** A worker signed in on the chat, at `width`×`height`. */
async function open(width = 1280, height = 800) {
  const { page } = await tabs.open({ baseUrl: server.url, width, height })
  await signIn(page, WORKER)
  return page
}

function answerWith(text: string, delayMs = 0) {
  fake.reset().set({ delayMs, reply: body => (isTitleCall(body) ? 'Título' : text) })
}

describe('chat answers', () => {
  it('a question the model never answered shows "Generar respuesta" after a reopen, titled from its first words', async () => {
    answerWith('Ya volví: aquí está tu respuesta.')
    fake.once({ errorStatus: 500, errorMessage: 'out of memory' })
    const page = await open()
    await send(page, 'Estado de la subestación Pampa Norte hoy')
    await page.waitForURL(/\/chat\/[0-9a-f-]{36}$/)
    // the server named the failed conversation from the question
    await page.getByTestId('conversation-item').filter({ hasText: 'Estado de la subestación Pampa Norte…' }).waitFor()
    const address = new URL(page.url()).pathname
    // reopened once; the other sizes are the same page resized (a reload per size cost this test two more cold page
    // loads, and on a loaded CI machine it outgrew its 90 s budget: 94 s at load 37)
    await page.goto(address)
    for (const [width, height] of SIZES) {
      await page.setViewportSize({ width, height })
      await page.getByTestId('generate-answer').waitFor()
      await settled(page)
      await screenshot(page, `chat-unanswered-${width}`)
    }
    await page.getByTestId('generate-answer').click()
    await lastAnswer(page).and(page.locator('[data-status="complete"]')).waitFor()
    await expect.poll(() => lastAnswer(page).getByTestId('message-body').textContent()).toContain('Ya volví')
    await expect.poll(() => page.getByTestId('generate-answer').count()).toBe(0)
    // the saved question was answered, not repeated
    const id = address.split('/').pop()
    const saved = await (await page.request.get(`/api/conversations/${id}/messages`)).json()
    expect(saved.data.map((m: { role: string }) => m.role)).toEqual(['user', 'assistant'])
  })

  it('a wide table scrolls sideways on a phone without breaking words; numbers align right', async () => {
    answerWith([
      '| Planta | Región | Potencia | Variación | Estado |',
      '|---|---|---:|---|---|',
      '| Antofagasta | Antofagasta | 1.234,5 MW | +3,4 % | Normal |',
      '| Copiapó Solar | Atacama | 980 MW | -12 % | Revisar inversores |',
    ].join('\n'))
    const page = await open(360, 740)
    await send(page, 'Dame la tabla de plantas')
    const table = lastAnswer(page).locator('table')
    await table.waitFor()
    await lastAnswer(page).and(page.locator('[data-status="complete"]')).waitFor()
    const layout = await table.evaluate((el) => {
      const cells = [...el.querySelectorAll('td, th')] as HTMLElement[]
      const words = cells.filter(c => /Antofagasta|Variación|Normal/.test(c.textContent ?? ''))
      const lineHeight = Number.parseFloat(getComputedStyle(words[0]!).lineHeight) || 20
      return {
        scrolls: el.scrollWidth > el.clientWidth,
        // a cell with one word is one line high: the word was not broken
        oneLine: words.every(c => c.getBoundingClientRect().height - 12 - 2 < lineHeight * 1.5),
        power: getComputedStyle(cells.find(c => c.textContent === '1.234,5 MW')!).textAlign,
        change: getComputedStyle(cells.find(c => c.textContent === '+3,4 %')!).textAlign,
        text: getComputedStyle(cells.find(c => c.textContent === 'Normal')!).textAlign,
      }
    })
    expect(layout).toEqual({ scrolls: true, oneLine: true, power: 'right', change: 'right', text: 'left' })
    for (const [width, height] of SIZES) {
      await page.setViewportSize({ width, height })
      await settled(page)
      await screenshot(page, `chat-table-${width}`)
    }
  })

  it('a very long message folds behind "Mostrar más" and unfolds on click', async () => {
    answerWith('Recibido.')
    const page = await open()
    const long = Array.from({ length: 60 }, (_, i) => `Línea ${i + 1} del informe de turno con lecturas de los medidores.`).join('\n')
    await send(page, long)
    await lastAnswer(page).and(page.locator('[data-status="complete"]')).waitFor()
    const bubble = page.getByTestId('user-bubble').last()
    const toggle = page.locator('[data-testid="message"][data-role="user"]').last().getByTestId('show-more')
    await expect.poll(() => toggle.textContent()).toBe('Mostrar más')
    const folded = (await bubble.boundingBox())!.height
    expect(folded).toBeLessThan(400)
    for (const [width, height] of SIZES) {
      await page.setViewportSize({ width, height })
      await settled(page)
      await screenshot(page, `chat-long-folded-${width}`)
    }
    await toggle.click()
    await expect.poll(() => toggle.getAttribute('aria-expanded')).toBe('true')
    await expect.poll(async () => (await bubble.boundingBox())!.height).toBeGreaterThan(folded * 2)
    expect(await toggle.textContent()).toBe('Mostrar menos')
  })

  it('a code block is coloured while the answer still streams, once it is closed; the block being written waits', async () => {
    const written = 'Primero:\n\n```python\ndef alerta(temp):\n    return temp > 85\n```\n\nLuego:\n\n```python\ndef otra(x):\n    return x'
    answerWith(`${written} + 1\n${'```'}\n\nFin.`)
    // the model holds after the second block's first lines: the first block is closed, the second still open
    const held = fake.gate()
    fake.set({ gate: held.gate, gateAfter: written.match(/\s*\S+/g)!.length })
    const page = await open()
    await send(page, 'Dos funciones en Python')
    const blocks = lastAnswer(page).locator('pre code')
    await expect.poll(() => blocks.count()).toBe(2)
    await blocks.first().locator('.hljs-keyword').first().waitFor()
    // coloured while the answer is still being written (the model is held), and the open block was not asked for
    await expect(page.getByTestId('generating').isVisible()).resolves.toBe(true)
    await expect(blocks.nth(1).locator('[class^="hljs-"]').count()).resolves.toBe(0)
    held.open()
    await lastAnswer(page).and(page.locator('[data-status="complete"]')).waitFor()
    await blocks.nth(1).locator('.hljs-keyword').first().waitFor()
  })

  it('a table\'s first row waits for its delimiter row while the answer streams: no raw "| … |" line on screen', async () => {
    const written = 'Capacidad por planta:\n\n| Planta | MW |'
    answerWith(`${written}\n|---|---:|\n| Norte | 120 |\n\nFin.`)
    const held = fake.gate()
    fake.set({ gate: held.gate, gateAfter: written.match(/\s*\S+/g)!.length })
    const page = await open()
    await send(page, 'Capacidad por planta')
    const body = lastAnswer(page).getByTestId('message-body')
    // every character up to the held model has reached the page (the streaming message says how many it holds)
    await expect.poll(() => lastAnswer(page).getAttribute('data-received')).toBe(String(written.length))
    await settled(page)
    expect(await body.textContent()).toContain('Capacidad por planta:')
    expect(await body.textContent()).not.toContain('|')
    held.open()
    await lastAnswer(page).and(page.locator('[data-status="complete"]')).waitFor()
    await expect.poll(() => body.locator('table th').allTextContents()).toEqual(['Planta', 'MW'])
    expect(await body.textContent()).not.toContain('|')
  })

  it('"Ir al final" appears while the reader scrolls above a streaming answer and brings them back down', async () => {
    answerWith(Array.from({ length: 300 }, (_, i) => (i % 12 === 11 ? `p${i}\n\n` : `p${i}`)).join(' '))
    // half the answer streams, then it waits until the test is done: it is still streaming at every step below (it used
    // to be 300 tokens 60 ms apart, 18 s that a loaded machine could outlast before Stop was clicked)
    const held = fake.gate()
    fake.set({ gate: held.gate, gateAfter: 150 })
    const page = await open(360, 740)
    await send(page, 'Escribe un texto largo')
    await page.getByTestId('generating').waitFor()
    const list = page.getByTestId('message-list')
    await expect.poll(() => list.evaluate(el => el.scrollHeight - el.clientHeight)).toBeGreaterThan(300)
    await list.evaluate((el) => { el.scrollTop = 0; el.dispatchEvent(new Event('scroll')) })
    await page.getByTestId('jump-to-end').waitFor()
    await settled(page)
    await screenshot(page, 'chat-jump-to-end-360')
    await page.getByTestId('jump-to-end').click()
    await expect.poll(() => list.evaluate(el => el.scrollHeight - el.scrollTop - el.clientHeight)).toBeLessThan(80)
    await expect.poll(() => page.getByTestId('jump-to-end').count()).toBe(0)
    await page.getByTestId('stop').click()
    await lastAnswer(page).and(page.locator('[data-status="stopped"]')).waitFor()
    held.open()
  })
})
