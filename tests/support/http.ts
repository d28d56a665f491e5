import { inject } from 'vitest'

export interface Reply<T = any> { status: number, headers: Headers, body: T, text: string }

interface RequestOptions { method?: string, body?: unknown, raw?: string, headers?: Record<string, string> }

/**
 * A tiny HTTP client with a cookie jar, for talking to the real server like a browser or a script would.
 * `new Client()` uses the server of the current test project (globalSetup); pass a URL for another one.
 */
export class Client {
  cookies = new Map<string, string>()
  bearer?: string
  constructor(public baseUrl: string = inject('baseUrl')) {}

  async request<T = any>(path: string, { method = 'GET', body, raw, headers = {} }: RequestOptions = {}): Promise<Reply<T>> {
    const h: Record<string, string> = { ...headers }
    if (body !== undefined || raw !== undefined) h['content-type'] ??= 'application/json'
    if (this.cookies.size) h.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ')
    if (this.bearer) h.authorization = `Bearer ${this.bearer}`
    const send = () => fetch(this.baseUrl + path, { method, headers: h, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)), redirect: 'manual' })
    // Node's server closes a keep-alive socket after 5 idle seconds; a request written on it at that moment fails
    // with "other side closed" before the server read it (a race a busy machine widens: CI saw it twice in one run).
    // It is sent once more, on a new socket. A server that really died refuses the second try, so nothing is hidden.
    const res = await send().catch((error: { cause?: { code?: string } }) => {
      if (error?.cause?.code !== 'UND_ERR_SOCKET') throw error
      return send()
    })
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';')
      const [name, ...value] = pair!.split('=')
      const expired = attrs.some(a => /max-age=0\b/i.test(a.trim()) || /expires=thu, 01 jan 1970/i.test(a.trim()))
      if (expired || value.join('=') === '') this.cookies.delete(name!.trim())
      else this.cookies.set(name!.trim(), value.join('='))
    }
    const text = await res.text()
    let parsed: any = text
    try { parsed = text ? JSON.parse(text) : null }
    catch {}
    return { status: res.status, headers: res.headers, body: parsed, text }
  }

  get = <T = any>(path: string, headers?: Record<string, string>) => this.request<T>(path, { headers })
  post = <T = any>(path: string, body?: unknown, headers?: Record<string, string>) => this.request<T>(path, { method: 'POST', body, headers })
  put = <T = any>(path: string, body?: unknown) => this.request<T>(path, { method: 'PUT', body })
  patch = <T = any>(path: string, body?: unknown) => this.request<T>(path, { method: 'PATCH', body })
  delete = <T = any>(path: string) => this.request<T>(path, { method: 'DELETE' })

  async login(email: string, password: string) {
    const res = await this.post('/api/auth/login', { email, password })
    if (res.status !== 200) throw new Error(`login ${email} → ${res.status} ${res.text}`)
    return res.body.user
  }
}

export const DEMO = {
  admin: { email: 'admin@example.com', password: 'admin123' },
  supervisor: { email: 'supervisor@example.com', password: 'supervisor123' },
  worker: { email: 'trabajador@example.com', password: 'worker123' },
} as const

let counter = 0
/** A unique email for a test user. */
export const uniqueEmail = (prefix = 'user') => `${prefix}-${Date.now().toString(36)}-${process.pid}-${++counter}@test.local`
export const GOOD_PASSWORD = 'correct-horse-battery-9'

/** Registers a fresh worker and returns a signed-in client for them. */
export async function newWorker(baseUrl?: string) {
  const client = new Client(baseUrl)
  const email = uniqueEmail('worker')
  const res = await client.post('/api/auth/register', { email, password: GOOD_PASSWORD, fullName: 'Test Worker' })
  if (res.status !== 201) throw new Error(`register → ${res.status} ${res.text}`)
  return { client, email, password: GOOD_PASSWORD, user: res.body.user }
}
