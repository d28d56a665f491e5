import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { makeUser, sqlRun, type TestUser } from '../api/admin-support'
import { launchBrowser, signIn, trackTabs } from '../support/browser'
import { Client, DEMO } from '../support/http'

// One sign-out path: every store forgets the last user (another person may sign in on the same device without a
// reload), and a session lost while chatting lands on the sign-in page instead of a raw server message.

let browser: Browser
let admin: Client
let adminId: string
let worker: TestUser
// the model server is down on this test server: /api/models answers 503 on the chat page
const tabs = trackTabs(() => browser, { allow: [/status of 503/] })
const TOKEN_NAME = `token-del-admin-${Date.now().toString(36)}`

beforeAll(async () => {
  browser = await launchBrowser()
  admin = new Client()
  adminId = (await admin.login(DEMO.admin.email, DEMO.admin.password)).id
  const created = await admin.post('/api/auth/tokens', { name: TOKEN_NAME, password: DEMO.admin.password })
  expect(created.status).toBe(201)
  worker = await makeUser(admin, 'worker', null, 'e2e-session')
})
afterAll(async () => {
  const tokens = (await admin.get('/api/auth/tokens')).body.data as Array<{ id: string, name: string }>
  for (const token of tokens.filter(t => t.name === TOKEN_NAME)) await admin.delete(`/api/auth/tokens/${token.id}`)
  await browser?.close()
})
afterEach(() => tabs.closeAll())

async function open() {
  return (await tabs.open()).page
}


/** In-app navigation (no reload): the stores keep whatever they hold. */
const go = (page: Page, path: string) => page.evaluate(to => (document.querySelector('#__nuxt') as any).__vue_app__.config.globalProperties.$router.push(to), path)
/** Everything the Pinia stores hold, as JSON. */
const storeState = (page: Page) => page.evaluate(() => JSON.stringify((document.querySelector('#__nuxt') as any).__vue_app__.config.globalProperties.$pinia.state.value))

describe('signing out', () => {
  it('leaves nothing of the last user in memory: the next person on the device sees only their own data', async () => {
    const page = await open()
    await signIn(page, DEMO.admin)
    for (const path of ['/settings/tokens', '/settings/sessions', '/admin/users', '/admin/audit']) {
      await go(page, path)
      await page.waitForURL(url => url.pathname === path)
      if (path === '/settings/tokens') await page.getByTestId('token').filter({ hasText: TOKEN_NAME }).waitFor()
    }
    await expect.poll(() => storeState(page)).toContain(TOKEN_NAME)
    expect(await storeState(page)).toContain(worker.email)
    expect(await storeState(page)).toContain(adminId)

    await page.getByTestId('user-menu').click()
    await page.getByRole('button', { name: 'Cerrar sesión' }).click()
    await page.waitForURL(url => url.pathname === '/login')
    const after = await storeState(page)
    expect(after).not.toContain(TOKEN_NAME)
    expect(after).not.toContain(worker.email)
    // (the demo accounts' emails stay: they are the login page's public config, not the user's data)
    expect(after).not.toContain(adminId)

    // another person signs in on the same page (no reload) and opens the same screens
    await signIn(page, worker, { goto: false })
    await go(page, '/settings/tokens')
    await page.waitForURL(url => url.pathname === '/settings/tokens')
    await page.getByTestId('tokens-empty').waitFor()
    expect(await page.locator('main').textContent()).not.toContain(TOKEN_NAME)
    expect(await storeState(page)).not.toContain(TOKEN_NAME)
  })

  it('a session revoked while chatting lands on the sign-in page, with no raw server message', async () => {
    const page = await open()
    await page.goto('/login')
    // the chat page's own first requests answer before the session goes: on a loaded machine one of them, not the
    // chat request, was the first to hear the 401 (and the sign-out emptied the composer before Send)
    const firstLoads = Promise.all(['/api/conversations', '/api/conversations/access-unseen', '/api/starter-prompts', '/api/models', '/api/system-prompts']
      .map(path => page.waitForResponse(response => new URL(response.url()).pathname === path)))
    await signIn(page, worker, { goto: false })
    expect((await firstLoads).map(response => response.status())).not.toContain(401)
    await page.getByTestId('composer').fill('¿Sigo conectado?')
    // the session row disappears (expired, or removed by an admin) without the live stream being told: the chat
    // request is the first to hear the 401
    const chatAnswer = page.waitForResponse(response => new URL(response.url()).pathname === '/api/chat')
    await sqlRun('delete from sessions where user_id = ?', [worker.id])
    // the server remembers a signed-in cookie for AUTH_CACHE_MS (1 s in tests) unless the app itself revoked it: wait,
    // with the page's own cookie, until hand-written SQL is seen (the page itself sends nothing meanwhile)
    const sameCookie = new Client()
    for (const cookie of await page.context().cookies()) sameCookie.cookies.set(cookie.name, cookie.value)
    await expect.poll(async () => (await sameCookie.get('/api/auth/me')).status, { timeout: 15_000 }).toBe(401)
    await page.getByTestId('send').click()
    expect((await chatAnswer).status()).toBe(401)
    await page.waitForURL(url => url.pathname === '/login' && url.searchParams.get('redirect')?.startsWith('/chat') === true)
    const text = await page.locator('body').textContent()
    expect(text).not.toContain('Not signed in')
    expect(text).not.toContain('No se pudo completar la respuesta')
    // and the page says why the user is there (walk 4: a bare sign-in form, as if nothing had happened)
    await expect.poll(() => page.getByTestId('session-ended').textContent()).toContain('Tu sesión terminó')
    // a wrong password: the note gives way to the error, not both at once
    await page.locator('input[autocomplete="username"]').fill(worker.email)
    await page.locator('input[autocomplete="current-password"]').fill('no-es-la-clave')
    await page.getByRole('button', { name: 'Iniciar sesión' }).click()
    await page.getByText('Correo o contraseña incorrectos.').waitFor()
    expect(await page.getByTestId('session-ended').count()).toBe(0)
    // signing in again goes back to where the user was
    await signIn(page, worker, { goto: false })
  })
})
