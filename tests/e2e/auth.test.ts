import type { Browser, Page } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { totpCode } from '../support/auth'
import { FakeOllama } from '../support/fake-ollama'
import { launchBrowser, openPage, screenshot, type TestPage } from '../support/browser'
import { GOOD_PASSWORD, uniqueEmail } from '../support/http'
import { createTestDatabase, type RunningServer, startServer, type TestDatabase } from '../support/server'

// Sign-in, registration and the settings screens in Chromium against the real built server.
// The demo worker's 2FA scenario runs last and turns 2FA off again, so the demo account ends as it started.


const WORKER = { email: 'trabajador@example.com', password: 'worker123' }

let browser: Browser
const opened: TestPage[] = []

beforeAll(async () => { browser = await launchBrowser() })
afterAll(async () => { await browser?.close() })

afterEach(async () => {
  for (const tab of opened.splice(0)) {
    await tab.close()
    expect(tab.errors, 'console errors').toEqual([])
  }
})

async function open(opts?: Parameters<typeof openPage>[1]) {
  const tab = await openPage(browser, opts)
  await tab.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: opts?.baseUrl ?? inject('baseUrl') })
  opened.push(tab)
  return tab.page
}

async function register(page: Page, redirect = '/settings') {
  const email = uniqueEmail('e2e')
  await page.goto(`/register?redirect=${encodeURIComponent(redirect)}`)
  await page.getByLabel('Nombre completo').fill('Camila Prueba')
  await page.getByLabel('Correo electrónico').fill(email)
  await page.getByLabel('Contraseña', { exact: true }).fill(GOOD_PASSWORD)
  await page.getByLabel('Repite la contraseña').fill(GOOD_PASSWORD)
  await page.getByRole('button', { name: 'Crear cuenta' }).click()
  await page.waitForURL(url => url.pathname === redirect)
  return email
}

async function signInWithPassword(page: Page, email: string, password: string) {
  await page.getByLabel('Correo electrónico').fill(email)
  await page.getByLabel('Contraseña', { exact: true }).fill(password)
  await page.getByRole('button', { name: 'Iniciar sesión' }).click()
}

describe('login screen', () => {
  it('signed-out visitors are sent to /login, in Spanish by default', async () => {
    const page = await open()
    await page.goto('/settings')
    await page.waitForURL(url => url.pathname === '/login')
    expect(new URL(page.url()).searchParams.get('redirect')).toBe('/settings')
    await expect.poll(() => page.getByRole('heading', { level: 1 }).textContent()).toBe('Iniciar sesión')
    await expect.poll(() => page.getAttribute('html', 'lang')).toBe('es-CL')
  })

  it('a wrong password shows a clear error and keeps the user on the login page', async () => {
    const page = await open()
    await page.goto('/login')
    await signInWithPassword(page, 'nadie@test.local', 'not-the-password')
    await expect.poll(() => page.getByTestId('login-error').textContent()).toContain('Correo o contraseña incorrectos')
    expect(new URL(page.url()).pathname).toBe('/login')
  })

  it('too many failures → "Demasiados intentos, inténtalo en N s"', async () => {
    const email = uniqueEmail('locked')
    for (let i = 0; i < 10; i++) {
      await fetch(`${inject('baseUrl')}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password: 'wrong-password' }) })
    }
    const page = await open()
    await page.goto('/login')
    await signInWithPassword(page, email, 'wrong-password')
    await expect.poll(() => page.getByTestId('login-error').textContent()).toMatch(/Demasiados intentos, inténtalo en \d+ s/)
  })

  it('the language switch turns the UI to English and is remembered', async () => {
    const page = await open()
    await page.goto('/login')
    await page.getByRole('button', { name: 'English' }).click()
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    await expect.poll(() => page.getAttribute('html', 'lang')).toBe('en')
    await page.reload()
    await page.getByRole('heading', { name: 'Sign in' }).waitFor()
    // the HTML shell reads the choice before the app's script runs: with that script held, the page is already English
    const bare = await page.context().newPage()
    await bare.route(/\/_nuxt\/.*\.js$/, route => route.abort())
    await bare.goto('/login')
    expect(await bare.getAttribute('html', 'lang')).toBe('en')
    await bare.close()
    await page.getByRole('button', { name: 'Español' }).click()
    await page.getByRole('heading', { name: 'Iniciar sesión' }).waitFor()
  })
})

describe('registration', () => {
  it('a new worker registers and lands where they were going', async () => {
    const page = await open()
    const email = await register(page, '/settings')
    await expect.poll(() => page.getByTestId('profile-email').textContent()).toBe(email)
    await expect.poll(() => page.getByTestId('profile-role').textContent()).toBe('Trabajador')
  })

  it('an email that already has an account is refused on the form', async () => {
    const page = await open()
    await page.goto('/register')
    await page.getByLabel('Nombre completo').fill('Otra Persona')
    await page.getByLabel('Correo electrónico').fill(WORKER.email)
    await page.getByLabel('Contraseña', { exact: true }).fill(GOOD_PASSWORD)
    await page.getByLabel('Repite la contraseña').fill(GOOD_PASSWORD)
    await page.getByRole('button', { name: 'Crear cuenta' }).click()
    await page.getByText('Ya existe una cuenta con este correo.').waitFor()
  })

  it('a password that is too short is said once, as the error, not also as the hint above it', async () => {
    const page = await open({ width: 360, height: 740 })
    await page.goto('/register')
    const password = page.getByLabel('Contraseña', { exact: true })
    await password.fill('corta')
    // before any submit the rule shows as a hint
    await expect.poll(() => page.getByText('Al menos 10 caracteres; ni una contraseña común ni el correo.').count()).toBe(1)
    await page.getByRole('button', { name: 'Crear cuenta' }).click()
    await expect.poll(() => password.getAttribute('aria-invalid')).toBe('true')
    await expect.poll(() => page.getByText('Al menos 10 caracteres; ni una contraseña común ni el correo.').count()).toBe(1)
    expect(await page.locator('.ui-field__error', { hasText: 'Al menos 10 caracteres; ni una contraseña común ni el correo.' }).count()).toBe(1)
    // the error is what the field announces
    const described = (await password.getAttribute('aria-describedby'))!.split(' ')
    expect(await Promise.all(described.map(id => page.locator(`[id="${id}"]`).textContent()))).toEqual(['Al menos 10 caracteres; ni una contraseña común ni el correo.'])
  })

  it('a field someone is typing in keeps the focus when the form\'s own focus comes late (a slow first frame)', async () => {
    const page = await open()
    // the name field takes the focus in the form's first frame: hold that frame back, as a slow phone (or a loaded CI
    // machine) does, while the user types into the email field
    await page.addInitScript(() => {
      const held: FrameRequestCallback[] = []
      const frame = window.requestAnimationFrame.bind(window)
      window.requestAnimationFrame = (callback) => {
        if (!/\.focus\(\)/.test(String(callback))) return frame(callback)
        held.push(callback)
        return 0
      }
      Object.assign(window, { releaseHeldFrames: () => held.splice(0).map(callback => callback(performance.now())).length })
    })
    await page.goto('/register')
    await page.getByLabel('Nombre completo').fill('Otra Persona')
    const email = page.getByLabel('Correo electrónico')
    await email.click()
    await page.keyboard.type('trabajador@')
    expect(await page.evaluate(() => (window as unknown as { releaseHeldFrames: () => number }).releaseHeldFrames())).toBeGreaterThan(0)
    await page.keyboard.type('example.com')
    expect(await email.inputValue()).toBe(WORKER.email)
    expect(await page.getByLabel('Nombre completo').inputValue()).toBe('Otra Persona')
    await page.getByLabel('Contraseña', { exact: true }).fill(GOOD_PASSWORD)
    await page.getByLabel('Repite la contraseña').fill(GOOD_PASSWORD)
    await page.getByRole('button', { name: 'Crear cuenta' }).click()
    await page.getByText('Ya existe una cuenta con este correo.').waitFor()
  })
})

describe('settings', () => {
  it('changing the password: a wrong current password is named, a good change is confirmed; demo accounts see why they cannot', async () => {
    const page = await open()
    const email = await register(page, '/settings')
    const form = page.getByTestId('password-form')
    // a new password holding the email's name is refused with that rule, not a list of every rule
    const withEmail = `${email.split('@')[0]}-nueva-77`
    await form.getByLabel('Contraseña actual', { exact: true }).fill(GOOD_PASSWORD)
    await form.getByLabel('Nueva contraseña', { exact: true }).fill(withEmail)
    await form.getByLabel('Repite la nueva contraseña').fill(withEmail)
    await form.getByRole('button', { name: 'Cambiar contraseña' }).click()
    await form.locator('.ui-field__error', { hasText: 'La contraseña no puede contener el correo de la cuenta.' }).waitFor()
    await form.getByLabel('Contraseña actual', { exact: true }).fill('not-my-password')
    await form.getByLabel('Nueva contraseña', { exact: true }).fill('otra-clave-segura-42')
    await form.getByLabel('Repite la nueva contraseña').fill('otra-clave-segura-42')
    await form.getByRole('button', { name: 'Cambiar contraseña' }).click()
    await page.getByText('La contraseña actual no es correcta.').waitFor()
    await form.getByLabel('Contraseña actual', { exact: true }).fill(GOOD_PASSWORD)
    await form.getByRole('button', { name: 'Cambiar contraseña' }).click()
    await page.getByText('Contraseña cambiada.', { exact: false }).waitFor()
    await expect.poll(() => form.getByLabel('Contraseña actual', { exact: true }).inputValue()).toBe('')

    const demo = await open()
    await demo.goto('/settings')
    await demo.getByTestId('demo-supervisor').click()
    await demo.getByRole('button', { name: 'Iniciar sesión' }).click()
    await demo.waitForURL(url => url.pathname === '/settings')
    await expect.poll(() => demo.getByTestId('password-disabled').textContent()).toContain('cuentas de demostración')
    // supervisors (and admins) get the link to the admin area
    await expect.poll(() => demo.getByRole('link', { name: 'Administración' }).count()).toBeGreaterThan(0)
  })

  it('revoking another session from settings signs that device out', async () => {
    const first = await open()
    const email = await register(first, '/settings/sessions')
    const second = await open()
    await second.goto('/settings')
    await second.waitForURL(url => url.pathname === '/login')
    await signInWithPassword(second, email, GOOD_PASSWORD)
    await second.waitForURL(url => url.pathname === '/settings')

    await first.reload()
    const sessions = first.getByTestId('session')
    await expect.poll(() => sessions.count()).toBe(2)
    await expect.poll(() => first.getByTestId('session-current').count()).toBe(1)
    const other = sessions.filter({ hasNot: first.getByTestId('session-current') })
    await other.getByTestId('session-revoke').click()
    await expect.poll(() => sessions.count()).toBe(1)

    // the revoked device is signed out at once: its next API call sends it to /login. That call may be the app's own
    // (a page it refreshes on its own) before the click below: then the tab is gone and the click never lands.
    const onLogin = second.waitForURL(url => url.pathname === '/login')
    await Promise.race([onLogin, second.getByTestId('settings-tab-sessions').click().catch(() => onLogin)])
    await onLogin
  })

  it('an API token is shown once, works as Bearer, and stops working when revoked', async () => {
    const page = await open()
    await register(page, '/settings/tokens')
    await page.getByTestId('tokens-empty').waitFor()
    await page.getByLabel('Nombre', { exact: true }).fill('script de reportes')
    await page.getByTestId('token-expiry').selectOption('30')
    // creating a token asks for the password again, and the page says when tokens stop working
    await expect(page.getByTestId('token-revocation-note').textContent()).resolves.toMatch(/contraseña/)
    await page.getByTestId('token-password').locator('input').fill(GOOD_PASSWORD)
    await page.getByRole('button', { name: 'Crear token' }).click()
    const token = (await page.getByTestId('token-value').textContent())!.trim()
    expect(token).toMatch(/^ea_/)
    await expect.poll(() => page.getByTestId('token').count()).toBe(1)

    const me = () => fetch(`${inject('baseUrl')}/api/auth/me`, { headers: { authorization: `Bearer ${token}` } }).then(r => r.status)
    expect(await me()).toBe(200)

    await page.getByTestId('token-revoke').click()
    await page.getByTestId('token-revoke-confirm').click()
    await page.getByTestId('tokens-empty').waitFor()
    await expect(page.getByTestId('token-created').count()).resolves.toBe(0)
    expect(await me()).toBe(401)
  })

  // one test per size: the three in one test (18 full-page screenshots, three sign-ups, three 2FA starts) outgrew the
  // 90 s test budget on a loaded CI machine (93 s at load 35), the loop's last turn being the one cut
  it.each([[360, 'light'], [1280, 'light'], [1280, 'dark']] as const)('screenshots of login and settings at %i px (%s)', async (width, colorScheme) => {
    const name = `${width}${colorScheme === 'dark' ? '-dark' : ''}`
    const page = await open({ width, height: width === 360 ? 740 : 800, colorScheme })
    await page.goto('/login')
    await page.getByTestId('demo-worker').waitFor()
    await screenshot(page, `login-${name}`)
    await register(page, '/settings')
    await screenshot(page, `settings-${name}`)
    await page.getByTestId('user-menu').click()
    await screenshot(page, `menu-${name}`)
    await page.keyboard.press('Escape')
    await page.getByTestId('settings-tab-tokens').click()
    // the profile page has a "Nombre" field too: fill the token form's own, once it is there
    const tokenForm = page.getByTestId('token-form')
    await tokenForm.waitFor()
    await tokenForm.getByLabel('Nombre', { exact: true }).fill('script de reportes')
    await tokenForm.getByTestId('token-password').locator('input').fill(GOOD_PASSWORD)
    await page.getByRole('button', { name: 'Crear token' }).click()
    await page.getByTestId('token-value').waitFor()
    await screenshot(page, `tokens-${name}`)
    await page.getByTestId('settings-tab-sessions').click()
    await page.getByTestId('session-current').waitFor()
    await screenshot(page, `sessions-${name}`)
    await page.getByTestId('settings-tab-security').click()
    await page.getByTestId('totp-enable').click()
    await page.getByLabel('Contraseña', { exact: true }).fill(GOOD_PASSWORD)
    await page.getByRole('button', { name: 'Continuar' }).click()
    await page.getByTestId('totp-qr').waitFor()
    await screenshot(page, `security-${name}`)
  })
})

describe('roles that must use 2FA (REQUIRE_2FA_ROLES)', () => {
  let db: TestDatabase
  let server: RunningServer
  // the app the supervisor reaches is the chat, which asks the model server at once: one that answers (without it,
  // a 503 from the health check reached the console whenever it came back before the next page load)
  let fake: FakeOllama
  beforeAll(async () => {
    fake = await new FakeOllama().start()
    db = await createTestDatabase('sqlite')
    server = await startServer({ DATABASE_URL: db.url, REQUIRE_2FA_ROLES: 'supervisor', OLLAMA_HOST: fake.url })
  })
  afterAll(async () => {
    await server?.stop()
    await db?.drop()
    await fake?.close()
  })

  it('a supervisor without 2FA is held on the enrolment page until it is on, then reaches the app', async () => {
    const page = await open({ baseUrl: server.url })
    await page.goto('/login')
    await page.getByTestId('demo-supervisor').click()
    await page.getByRole('button', { name: 'Iniciar sesión' }).click()
    await page.waitForURL(url => url.pathname === '/settings/security')
    await page.getByTestId('must-enrol').waitFor()
    await page.goto('/settings/tokens')
    await page.waitForURL(url => url.pathname === '/settings/security')

    await page.getByTestId('totp-enable').click()
    await page.getByLabel('Contraseña', { exact: true }).fill('supervisor123')
    await page.getByRole('button', { name: 'Continuar' }).click()
    const secret = (await page.getByTestId('totp-secret').getAttribute('data-secret'))!
    await page.getByLabel('Código de 6 dígitos').fill(await totpCode(secret))
    await page.getByRole('button', { name: 'Activar', exact: true }).click()
    await page.getByTestId('codes-saved').check()
    await page.getByTestId('codes-done').click()
    await page.waitForURL(url => url.pathname !== '/settings/security')
    await page.goto('/settings/tokens')
    await page.getByTestId('token-form').waitFor()
  })
})

describe('demo worker with two-step verification', () => {
  it('signs in with quick access, enrols 2FA, signs out, signs in through the TOTP step and lands where they were going', async () => {
    const page = await open()
    await page.goto('/settings/security')
    await page.waitForURL(url => url.pathname === '/login')
    await page.getByTestId('demo-worker').click()
    await expect.poll(() => page.getByLabel('Correo electrónico').inputValue()).toBe(WORKER.email)
    await page.getByRole('button', { name: 'Iniciar sesión' }).click()
    await page.waitForURL(url => url.pathname === '/settings/security')

    // enrol: password, then the code computed from the manual key on the page
    await page.getByTestId('totp-enable').click()
    await page.getByLabel('Contraseña', { exact: true }).fill(WORKER.password)
    await page.getByRole('button', { name: 'Continuar' }).click()
    const secret = (await page.getByTestId('totp-secret').getAttribute('data-secret'))!
    expect((await page.getByTestId('totp-secret').textContent())!.replace(/\s/g, '')).toBe(secret)
    expect(await page.getByTestId('totp-qr').getAttribute('src')).toMatch(/^data:image\/svg\+xml/)
    // on the phone itself, the same key opens the authenticator app through its otpauth:// link
    const link = new URL((await page.getByTestId('totp-open-app').getAttribute('href'))!)
    expect(link.protocol).toBe('otpauth:')
    expect(link.searchParams.get('secret')).toBe(secret)
    expect(await page.getByTestId('totp-open-app').textContent()).toBe('Abrir en la app autenticadora')
    await page.getByLabel('Código de 6 dígitos').fill(await totpCode(secret))
    await page.getByRole('button', { name: 'Activar', exact: true }).click()

    // the recovery codes, saved before moving on
    const codes = page.getByTestId('recovery-codes').locator('li')
    await expect.poll(() => codes.count()).toBe(10)
    await screenshot(page, 'recovery-codes-1280')
    const recovery = (await codes.allTextContents()).map(c => c.trim())
    const download = page.waitForEvent('download')
    await page.getByTestId('download-codes').click()
    expect((await download).suggestedFilename()).toBe('energyapp-recovery-codes.txt')
    await page.getByRole('button', { name: 'Copiar códigos' }).click()
    await expect.poll(() => page.evaluate(() => navigator.clipboard.readText())).toBe(recovery.join('\n'))
    expect(await page.getByTestId('codes-done').isDisabled()).toBe(true)
    await page.getByTestId('codes-saved').check()
    await page.getByTestId('codes-done').click()
    // 'está activada', not just 'activada': 'desactivada' contains that too, and the poll would not wait
    await expect.poll(() => page.getByTestId('totp-status').textContent()).toContain('está activada')

    // sign out from the user menu
    await page.getByTestId('user-menu').click()
    await page.getByRole('button', { name: 'Cerrar sesión' }).click()
    await page.waitForURL(url => url.pathname === '/login')

    // back in through the TOTP step, to the page that asked for sign-in
    await page.goto('/settings/sessions')
    await page.waitForURL(url => url.pathname === '/login')
    await page.getByTestId('demo-worker').click()
    await page.getByRole('button', { name: 'Iniciar sesión' }).click()
    await page.getByRole('heading', { name: 'Verificación en dos pasos' }).waitFor()
    await screenshot(page, 'login-totp-1280')
    await page.getByLabel('Código de 6 dígitos').fill('000000')
    await page.getByRole('button', { name: 'Verificar' }).click()
    await expect.poll(() => page.getByTestId('totp-error').textContent()).toContain('Código incorrecto')
    // the enrolment burnt the current step: the next step's code is the next one accepted
    await page.getByLabel('Código de 6 dígitos').fill(await totpCode(secret, 1))
    await page.getByRole('button', { name: 'Verificar' }).click()
    await page.waitForURL(url => url.pathname === '/settings/sessions')
    await page.getByTestId('session-current').waitFor()

    // leave the demo account as it was: 2FA off, confirmed with a recovery code
    await page.getByTestId('settings-tab-security').click()
    await page.getByTestId('totp-disable-start').click()
    await page.getByLabel('Contraseña', { exact: true }).fill(WORKER.password)
    await page.getByLabel('Código de 6 dígitos o código de recuperación').fill(recovery[0]!)
    await page.getByRole('button', { name: 'Desactivar 2FA' }).click()
    await expect.poll(() => page.getByTestId('totp-status').textContent()).toContain('desactivada')
  })
})
