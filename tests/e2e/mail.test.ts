import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { launchBrowser, openPage, type TestPage } from '../support/browser'
import { type FakeOllama, startFakeOllama } from '../support/fake-ollama'
import { GOOD_PASSWORD, uniqueEmail } from '../support/http'
import { linkIn, type Mailbox, startMailbox } from '../support/mailbox'
import { createTestDatabase, type RunningServer, startServer, type TestDatabase } from '../support/server'

// Email in Chromium: a server with SMTP_URL pointing at a real SMTP server in this process; the links are read
// from the mails it receives. The project's shared server (no SMTP) shows the "ask an admin" path.

const NEW_PASSWORD = 'nueva-clave-segura-77'

let browser: Browser
let mailbox: Mailbox
let db: TestDatabase
let server: RunningServer
// signing in lands on the chat, which asks the model server for its models
let ollama: FakeOllama
const opened: TestPage[] = []

beforeAll(async () => {
  browser = await launchBrowser()
  mailbox = await startMailbox()
  ollama = await startFakeOllama()
  db = await createTestDatabase('sqlite')
  server = await startServer({ DATABASE_URL: db.url, SMTP_URL: mailbox.url, OLLAMA_HOST: ollama.url })
})
afterAll(async () => {
  await browser?.close()
  await server?.stop()
  await db?.drop()
  await mailbox?.close()
  await ollama?.close()
})
afterEach(async () => {
  for (const tab of opened.splice(0)) {
    await tab.close()
    expect(tab.errors, 'console errors').toEqual([])
  }
})

async function open(baseUrl?: string) {
  const tab = await openPage(browser, { baseUrl: baseUrl ?? server.url })
  opened.push(tab)
  return tab.page
}

async function signIn(page: Page, email: string, password: string) {
  await page.getByLabel('Correo electrónico').fill(email)
  await page.getByLabel('Contraseña', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Iniciar sesión' }).click()
}

describe('with SMTP', () => {
  it('a new user registers, confirms by email, forgets the password, resets it from the mailed link and signs in with the new one', async () => {
    const email = uniqueEmail('e2e-mail')
    const page = await open()
    await page.goto('/register')
    await page.getByLabel('Nombre completo').fill('Valentina Correo')
    await page.getByLabel('Correo electrónico').fill(email)
    await page.getByLabel('Contraseña', { exact: true }).fill(GOOD_PASSWORD)
    await page.getByLabel('Repite la contraseña').fill(GOOD_PASSWORD)
    await page.getByRole('button', { name: 'Crear cuenta' }).click()
    await expect.poll(() => page.getByTestId('verification-sent').textContent()).toContain('Revisa tu correo')
    await expect.poll(() => page.getByTestId('verification-sent').textContent()).toContain(email)

    // not yet: the right password is answered with "confirm your email", and a fresh link is mailed
    await page.goto('/login')
    await signIn(page, email, GOOD_PASSWORD)
    await expect.poll(() => page.getByTestId('login-error').textContent()).toContain('Confirma tu correo')

    const confirmation = linkIn(await mailbox.waitFor(email, 2), '/verify-email')
    expect(confirmation.url.startsWith(`${server.url}/verify-email?token=`)).toBe(true)
    await page.goto(confirmation.url)
    await page.waitForURL(url => url.pathname.startsWith('/chat'))

    // another device: "¿Olvidaste tu contraseña?" on the login page
    const other = await open()
    await other.goto('/login')
    await other.getByRole('link', { name: '¿Olvidaste tu contraseña?' }).click()
    await other.waitForURL(url => url.pathname === '/forgot-password')
    await other.getByRole('button', { name: 'Enviar enlace' }).click()
    await other.getByTestId('forgot-form').getByText('Este campo es obligatorio.').waitFor()
    await other.getByLabel('Correo electrónico').fill(email)
    await other.getByRole('button', { name: 'Enviar enlace' }).click()
    await expect.poll(() => other.getByTestId('forgot-sent').textContent()).toContain('te enviamos un enlace')

    const reset = linkIn(await mailbox.waitFor(email, 3), '/reset-password')
    await other.goto(reset.url)
    await other.getByRole('heading', { name: 'Elige una nueva contraseña' }).waitFor()
    await other.getByRole('button', { name: 'Guardar contraseña' }).click()
    await expect.poll(() => other.getByTestId('reset-form').getByText('Este campo es obligatorio.').count()).toBe(2)
    await other.getByLabel('Nueva contraseña', { exact: true }).fill(NEW_PASSWORD)
    await other.getByLabel('Repite la contraseña').fill(NEW_PASSWORD)
    await other.getByRole('button', { name: 'Guardar contraseña' }).click()
    await expect.poll(() => other.getByTestId('reset-done').textContent()).toContain('se cerraron todas tus sesiones')

    // the first device's session ended with the reset
    await page.reload()
    await page.waitForURL(url => url.pathname === '/login')

    await other.getByTestId('reset-sign-in').click()
    await other.waitForURL(url => url.pathname === '/login')
    await signIn(other, email, GOOD_PASSWORD)
    await expect.poll(() => other.getByTestId('login-error').textContent()).toContain('Correo o contraseña incorrectos')
    await signIn(other, email, NEW_PASSWORD)
    await other.waitForURL(url => url.pathname.startsWith('/chat'))

    // the reset link worked once
    const again = await open()
    await again.goto(reset.url)
    await again.getByLabel('Nueva contraseña', { exact: true }).fill('otra-mas-segura-88')
    await again.getByLabel('Repite la contraseña').fill('otra-mas-segura-88')
    await again.getByRole('button', { name: 'Guardar contraseña' }).click()
    await expect.poll(() => again.getByTestId('reset-bad-link').textContent()).toContain('ya se usó o venció')
  })

  it('a used or made-up confirmation link says so and points to sign-in', async () => {
    const page = await open()
    await page.goto('/verify-email?token=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG')
    await expect.poll(() => page.getByTestId('verify-bad-link').textContent()).toContain('no es válido')
    await page.getByRole('link', { name: 'Ir a iniciar sesión' }).click()
    await page.waitForURL(url => url.pathname === '/login')
  })
})

describe('without SMTP (the shared server)', () => {
  it('"¿Olvidaste tu contraseña?" says to ask an administrator, in Spanish and in English', async () => {
    const page = await open(inject('baseUrl'))
    await page.goto('/login')
    await page.getByRole('link', { name: '¿Olvidaste tu contraseña?' }).click()
    await expect.poll(() => page.getByTestId('forgot-ask-admin').textContent()).toContain('Pide a un administrador')
    expect(await page.getByTestId('forgot-form').count()).toBe(0)
    await page.getByRole('button', { name: 'English' }).click()
    await expect.poll(() => page.getByTestId('forgot-ask-admin').textContent()).toContain('Ask an administrator')
  })
})
