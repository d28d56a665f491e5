import { type FetchError, ofetch } from 'ofetch'
import type { ErrorReason } from '#shared/errors'
import type { ApiError } from '#shared/types'

/** An API answer that was not 2xx, or no answer at all (statusCode 0 = network error). */
export class ApiRequestError extends Error {
  readonly statusCode: number
  readonly data: ApiError['data']
  /** Seconds from Retry-After on a 429. */
  readonly retryAfter: number | null

  constructor(statusCode: number, message: string, data?: ApiError['data'], retryAfter: number | null = null) {
    super(message)
    this.name = 'ApiRequestError'
    this.statusCode = statusCode
    this.data = data
    this.retryAfter = retryAfter
  }

  /** The field the server named in `data.fields` (its first one): what the user must correct, if anything. */
  get field(): string | null {
    const fields = this.data?.fields
    return fields ? Object.keys(fields)[0] ?? null : null
  }

  /** The server's stable error code (`data.reason`), which the UI translates; null for older answers. */
  get reason(): ErrorReason | null {
    return typeof this.data?.reason === 'string' ? this.data.reason as ErrorReason : null
  }
}

export const isApiError = (error: unknown): error is ApiRequestError => error instanceof ApiRequestError

function retryAfterOf(headers: Headers | undefined, data: ApiError['data']): number | null {
  const header = Number(headers?.get('retry-after'))
  if (Number.isFinite(header) && header > 0) return header
  return typeof data?.retryAfter === 'number' ? data.retryAfter : null
}

function toApiError(error: unknown): ApiRequestError {
  if (isApiError(error)) return error
  const fetchError = error as FetchError<ApiError>
  const status = fetchError.response?.status ?? fetchError.statusCode ?? 0
  if (!status) return new ApiRequestError(0, 'Network error')
  const body = fetchError.data
  return new ApiRequestError(status, body?.message || fetchError.statusMessage || `HTTP ${status}`, body?.data, retryAfterOf(fetchError.response?.headers, body?.data))
}

/** A non-2xx Response read as the API's error shape. */
async function errorFromResponse(response: Response): Promise<ApiRequestError> {
  let body: Partial<ApiError> = {}
  try { body = await response.json() }
  catch {}
  return new ApiRequestError(response.status, body.message || response.statusText || `HTTP ${response.status}`, body.data, retryAfterOf(response.headers, body.data))
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
export interface ApiOptions {
  method?: Method
  body?: Record<string, unknown>
  query?: Record<string, string | number | boolean | undefined>
  signal?: AbortSignal
  /** Let the request outlive the page (a delete committed while leaving). */
  keepalive?: boolean
}

/** Routes where a 401 is an answer about credentials, not a lost session. */
const SIGN_IN_ROUTES = ['/api/auth/login', '/api/auth/verify-2fa', '/api/auth/me', '/api/auth/logout']
/** 403 reasons that mean "the account must do something first": the route guard takes the user there. */
const HOLD_REASONS: ReadonlySet<string> = new Set(['change-password', 'enrol-2fa'])

/** A Response that is not the answer asked for, thrown as ApiRequestError once the session has heard of it. */
async function refused(path: string, response: Response): Promise<never> {
  const apiError = await errorFromResponse(response)
  await onError(path, apiError)
  throw apiError
}

/** The one place an API error reaches the session: a lost session signs out here, a hold re-routes. */
async function onError(path: string, error: ApiRequestError) {
  // a 401 that names a field ("currentPassword: is wrong") is about what was typed, not about the session
  if (error.statusCode === 401 && !error.field && !SIGN_IN_ROUTES.includes(path)) await sessionLost()
  else if (error.statusCode === 403 && error.reason && HOLD_REASONS.has(error.reason)) await accountHeld()
}

/**
 * The one way stores talk to the server: same-origin cookies, one error type (ApiRequestError), and one
 * session-lost path (401 while signed in → /login with a way back). `api.stream` is the same for answers read
 * as a stream (POST /api/chat, GET /api/events).
 */
export function useApi() {
  async function api<T>(path: string, options: ApiOptions = {}): Promise<T> {
    try {
      // ofetch itself (what Nuxt's $fetch wraps): each store names the answer it expects, with no cast
      return await ofetch<T>(path, { ...options, credentials: 'same-origin', retry: 0 })
    }
    catch (error) {
      const apiError = toApiError(error)
      await onError(path, apiError)
      throw apiError
    }
  }

  /**
   * A request whose answer is read as it arrives. Resolves with the open Response when the server answered
   * `accept`'s type; throws ApiRequestError otherwise (a JSON error, or status 0 when there was no answer). An
   * abort through `signal` rethrows the AbortError so the caller can tell Stop from failure.
   */
  async function stream(path: string, options: ApiOptions & { accept?: string } = {}): Promise<Response> {
    const accept = options.accept ?? 'text/event-stream'
    let response: Response
    try {
      response = await fetch(path, {
        method: options.method ?? 'GET',
        credentials: 'same-origin',
        cache: 'no-store',
        headers: { accept, ...(options.body ? { 'content-type': 'application/json' } : {}) },
        body: options.body ? JSON.stringify(options.body) : undefined,
        signal: options.signal,
      })
    }
    catch (error) {
      if (options.signal?.aborted) throw error
      throw new ApiRequestError(0, (error as Error).message || 'Network error')
    }
    if (!response.ok || !response.headers.get('content-type')?.includes(accept) || !response.body) return refused(path, response)
    return response
  }

  /**
   * The answer to a GET that was started elsewhere (the HTML shell's session check, utils/boot-request.ts), read as
   * `api` reads its own: the same error type and the same session-lost path. `null`: the request never got an answer.
   */
  async function adopt<T>(path: string, started: Promise<Response | null>): Promise<T> {
    const response = await started
    if (!response) throw new ApiRequestError(0, 'Network error')
    if (!response.ok) return refused(path, response)
    try { return await response.json() as T }
    catch { throw new ApiRequestError(0, 'Network error') }
  }

  return Object.assign(api, { stream, adopt })
}

async function sessionLost() {
  const auth = useAuthStore()
  if (!auth.user) return
  await auth.forget()
  const route = useRouter().currentRoute.value
  if (route.meta.public) return
  // `ended`: the login page says why the user is there (walk 4: a deactivated or revoked session landed on a bare form)
  await navigateTo({ path: '/login', query: { redirect: route.fullPath, ended: '1' } })
}

/** The server holds the account (temporary password, 2FA to enrol): learn why, then let the route guard act. */
async function accountHeld() {
  const auth = useAuthStore()
  if (!auth.user) return
  const user = await auth.me(true).catch(() => null)
  if (user?.mustChangePassword) await navigateTo('/change-password')
  else if (user?.mustEnrol2fa) await navigateTo({ path: '/settings/security', query: { enrol: '1' } })
}
