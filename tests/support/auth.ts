import { generate } from 'otplib'
import { expect } from 'vitest'
import { Client, GOOD_PASSWORD, type Reply, uniqueEmail } from './http'

const FORBIDDEN = ['password_hash', 'passwordHash', 'totpSecret', 'totp_secret', '$argon2', 'tokenHash', 'token_hash', 'codeHash']

/**
 * A client that checks every answer: no hash, no stored secret, and — once 2FA setup has shown a TOTP secret —
 * never that secret again.
 */
export class SafeClient extends Client {
  secrets: string[] = []

  override async request<T = any>(path: string, opts?: Parameters<Client['request']>[1]): Promise<Reply<T>> {
    const res = await super.request<T>(path, opts)
    for (const needle of [...FORBIDDEN, ...this.secrets])
      expect(res.text.includes(needle), `${opts?.method ?? 'GET'} ${path} answered with "${needle}"`).toBe(false)
    if (path === '/api/auth/2fa/setup' && res.status === 200) this.secrets.push((res.body as { secret: string }).secret)
    return res
  }
}

/** The TOTP code of the current 30 s step, or of a step `steps` away (the server accepts ±1 step). */
export const totpCode = (secret: string, steps = 0) =>
  generate({ secret, epoch: Math.floor(Date.now() / 1000) + steps * 30 })

/** Registers a fresh worker (on the test domain) and returns their signed-in client. */
export async function signUp(baseUrl?: string, prefix = 'auth') {
  const client = new SafeClient(baseUrl)
  const email = uniqueEmail(prefix)
  const res = await client.post('/api/auth/register', { email, password: GOOD_PASSWORD, fullName: 'Prueba Auth' })
  if (res.status !== 201) throw new Error(`register → ${res.status} ${res.text}`)
  return { client, email, password: GOOD_PASSWORD, user: res.body.user as { id: string, email: string } }
}

/** A second signed-in client (another device) for the same account. */
export async function signIn(email: string, password: string, baseUrl?: string) {
  const client = new SafeClient(baseUrl)
  await client.login(email, password)
  return client
}

/**
 * Turns on TOTP for the signed-in client: setup + enable with the current step's code. Enabling does not use the
 * code up: `enablingCode` still signs in (or turns 2FA off) once (not `totpCode(secret)` read later: the step may
 * have rolled over since); `totpCode(secret, 1)` is a code no earlier request can have used.
 */
export async function enrolTotp(client: Client, password: string) {
  const setup = await client.post('/api/auth/2fa/setup', { password })
  if (setup.status !== 200) throw new Error(`2fa setup → ${setup.status} ${setup.text}`)
  const secret = setup.body.secret as string
  const enablingCode = await totpCode(secret)
  const enable = await client.post('/api/auth/2fa/enable', { code: enablingCode })
  if (enable.status !== 200) throw new Error(`2fa enable → ${enable.status} ${enable.text}`)
  return { secret, enablingCode, recoveryCodes: enable.body.recoveryCodes as string[] }
}

/** A 4xx error body of the API's shape whose message names `field`. */
export function expectFieldError(res: Reply, field: string, status: number | number[] = 400) {
  const statuses = Array.isArray(status) ? status : [status]
  expect(statuses, res.text.slice(0, 300)).toContain(res.status)
  expect(res.body?.statusCode).toBe(res.status)
  expect(String(res.body?.message)).toContain(field)
  // the field is also data, so clients never parse it out of the message
  expect(typeof res.body?.data?.fields?.[field], res.text.slice(0, 300)).toBe('string')
}
