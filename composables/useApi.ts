import type { FetchError } from 'ofetch'
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

  /** The field a server message names ("password: is wrong" → "password"). */
  get field(): string | null {
    return /^([a-zA-Z]+): /.exec(this.message)?.[1] ?? null
  }
}

export const isApiError = (error: unknown): error is ApiRequestError => error instanceof ApiRequestError

function toApiError(error: unknown): ApiRequestError {
  const fetchError = error as FetchError<ApiError>
  const status = fetchError.response?.status ?? fetchError.statusCode ?? 0
  if (!status) return new ApiRequestError(0, 'Network error')
  const body = fetchError.data
  const header = Number(fetchError.response?.headers.get('retry-after'))
  const retryAfter = Number.isFinite(header) && header > 0 ? header : (typeof body?.data?.retryAfter === 'number' ? body.data.retryAfter : null)
  return new ApiRequestError(status, body?.message || fetchError.statusMessage || `HTTP ${status}`, body?.data, retryAfter)
}

// Nitro's typed $fetch infers answers from route files; stores name the answer type themselves
const fetchJson = $fetch as unknown as <T>(url: string, options: Record<string, unknown>) => Promise<T>

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'
export interface ApiOptions { method?: Method, body?: Record<string, unknown>, query?: Record<string, string | number | boolean | undefined>, signal?: AbortSignal }

/** Routes where a 401 is an answer about credentials, not a lost session. */
const SIGN_IN_ROUTES = ['/api/auth/login', '/api/auth/verify-2fa', '/api/auth/me', '/api/auth/logout']

/**
 * The one way stores talk to the server: same-origin cookies, typed errors, and a lost session
 * (401 while signed in) sends the user back to /login with a way back.
 */
export function useApi() {
  return async function api<T>(path: string, options: ApiOptions = {}): Promise<T> {
    try {
      return await fetchJson<T>(path, { ...options, credentials: 'same-origin', retry: 0 })
    }
    catch (error) {
      const apiError = toApiError(error)
      // a 401 that names a field ("currentPassword: is wrong") is about what was typed, not about the session
      if (apiError.statusCode === 401 && !apiError.field && !SIGN_IN_ROUTES.includes(path)) await sessionLost()
      throw apiError
    }
  }
}

async function sessionLost() {
  const auth = useAuthStore()
  if (!auth.user) return
  await auth.forget()
  const route = useRouter().currentRoute.value
  if (route.meta.public) return
  await navigateTo({ path: '/login', query: { redirect: route.fullPath } })
}
