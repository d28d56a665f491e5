import type { Browser } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { mkdirSync } from 'node:fs'
import { resolve } from 'node:path'
import { launchBrowser, openPage, SCREENSHOTS, type TestPage } from '../support/browser'
import { FakeOllama } from '../support/fake-ollama'
import { FakeOpenAi } from '../support/fake-openai'
import { DEMO } from '../support/http'
import { createTestDatabase, freePort, type RunningServer, startServer, type TestDatabase } from '../support/server'

// Admin → Modelo with a pool: a healthy Ollama, a healthy OpenAI-compatible server and one that is down; each
// card shows its state, kind, load, models and the last error, at phone, tablet and desktop widths, in es and en.

let ollama: FakeOllama
let openai: FakeOpenAi
let db: TestDatabase
let server: RunningServer
let browser: Browser
const tabs: TestPage[] = []

beforeAll(async () => {
  ollama = await new FakeOllama().start()
  openai = await new FakeOpenAi({ models: [{ name: 'meta-llama/Llama-3.1-8B-Instruct' }, { name: 'qwen2.5:3b-instruct' }] }).start()
  const closed = await freePort()
  db = await createTestDatabase('sqlite')
  server = await startServer({ DATABASE_URL: db.url, OLLAMA_HOSTS: `${ollama.url},openai+${openai.url},http://127.0.0.1:${closed}`, MODEL_CHECK_MS: '500' })
  browser = await launchBrowser()
})

afterAll(async () => {
  await browser?.close()
  await server?.stop()
  await db?.drop()
  await ollama?.close()
  await openai?.close()
})

afterEach(async () => {
  for (const tab of tabs.splice(0)) {
    await tab.close()
    expect(tab.errors).toEqual([])
  }
})

async function openModelPage(width: number, height: number, english = false) {
  const tab = await openPage(browser, { width, height, baseUrl: server.url })
  tabs.push(tab)
  const { page } = tab
  await page.goto('/login')
  if (english) await page.getByRole('button', { name: 'English' }).click()
  await page.locator('input[autocomplete="username"]').fill(DEMO.admin.email)
  await page.locator('input[autocomplete="current-password"]').fill(DEMO.admin.password)
  await page.getByRole('button', { name: english ? 'Sign in' : 'Iniciar sesión' }).click()
  await page.waitForURL(url => url.pathname.startsWith('/chat'))
  await page.goto('/admin/model')
  await page.getByTestId('model-servers').waitFor()
  return page
}

describe('Admin → Modelo: the model servers', () => {
  for (const [width, height] of [[360, 740], [768, 1024], [1280, 800]] as const) {
    it(`each server's state, models and error at ${width} px, without sideways scrolling`, async () => {
      const page = await openModelPage(width, height)
      const cards = page.getByTestId('model-server')
      await expect.poll(() => cards.count()).toBe(3)
      await expect.poll(() => cards.evaluateAll(els => els.map(e => e.getAttribute('data-state')))).toEqual(['healthy', 'healthy', 'down'])
      await expect.poll(() => cards.nth(0).getByTestId('model-server-state').textContent()).toMatch(/Disponible/)
      await expect.poll(() => cards.nth(1).textContent()).toMatch(/Compatible con OpenAI.*meta-llama\/Llama-3\.1-8B-Instruct/s)
      await expect.poll(() => cards.nth(2).getByTestId('model-server-state').textContent()).toMatch(/Caído/)
      // the reason in Spanish (walk 4: the server's English words showed as they came)
      await expect.poll(() => cards.nth(2).getByTestId('model-server-error').textContent()).toBe('Último error: no se pudo conectar con el servidor (ECONNREFUSED)')
      await expect.poll(() => cards.nth(0).getByTestId('model-server-load').textContent()).toMatch(/ninguna respuesta en curso/)
      expect(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth)).toBe(true)
      for (const i of [0, 1, 2]) {
        const box = (await cards.nth(i).boundingBox())!
        expect(box.x + box.width).toBeLessThanOrEqual(width)
      }
      // the panel scrolls inside its column: a picture of the servers section itself
      mkdirSync(SCREENSHOTS, { recursive: true })
      await page.getByTestId('model-servers').screenshot({ path: resolve(SCREENSHOTS, `admin-model-servers-${width}.png`) })
    })
  }

  it('in English; the refresh button reloads the states', async () => {
    const page = await openModelPage(1280, 800, true)
    const cards = page.getByTestId('model-server')
    await expect.poll(() => cards.nth(2).getByTestId('model-server-state').textContent()).toMatch(/Down/)
    await expect.poll(() => cards.nth(1).textContent()).toMatch(/OpenAI-compatible/)
    await expect.poll(() => page.getByTestId('model-servers').textContent()).toMatch(/Model servers.*no answers running/s)
    await expect.poll(() => cards.nth(2).getByTestId('model-server-error').textContent()).toBe('Last error: the model server cannot be reached (ECONNREFUSED)')
    const before = await cards.nth(2).locator('time').getAttribute('datetime')
    await page.getByTestId('model-servers-refresh').click()
    // the down server is re-checked in the background with back-off: a refresh shows a newer check
    await expect.poll(async () => {
      await page.getByTestId('model-servers-refresh').click()
      return cards.nth(2).locator('time').getAttribute('datetime')
    }).not.toBe(before)
  })
})
