import type { Preferences } from '#shared/account'
import { BUILT_IN, type BuiltInRole, type Permission } from '#shared/permissions'
import type { ApiUser } from '#shared/types'
import { owedSignOut } from '~/stores/offline'

export type LoginResult = { status: 'signed-in', user: ApiUser } | { status: 'two-factor', challenge: string }
/** Registration signs in at once, or (with email on) waits for the mailed confirmation link. */
export type RegisterResult = { status: 'signed-in', user: ApiUser } | { status: 'verification-sent' }
export interface TotpSetup { secret: string, otpauthUrl: string, qrSvg: string }
interface RegisterInput { email: string, password: string, fullName: string }

/** Holding any of these opens the admin panel (each tab asks for its own). */
export const ADMIN_PANEL_PERMISSIONS: readonly Permission[] = [
  'users.read', 'users.manage', 'conversations.read.team', 'conversations.read.all', 'audit.read', 'settings.manage', 'roles.manage', 'reports.manage', 'channels.manage',
]

/** The signed-in user and every account action that changes who they are or how they sign in. */
export const useAuthStore = defineStore('auth', () => {
  const api = useApi()
  const offline = useOfflineStore()
  const user = ref<ApiUser | null>(null)
  // sync: the offline copy must know whose data it serves before the next line of the caller runs
  watch(user, (value) => { if (value) void offline.signedIn(value) }, { flush: 'sync' })
  /** True once `/api/auth/me` has answered on this page load. */
  const checked = ref(false)
  let checking: Promise<ApiUser | null> | null = null

  const signedIn = computed(() => !!user.value)
  /** Whether the signed-in user holds `permission` (the server checks again on every request). */
  const can = (permission: Permission) => !!user.value?.permissions?.includes(permission)
  /** Any of `permissions`. */
  const canAny = (permissions: readonly Permission[]) => permissions.some(can)
  /** The server's rule: nobody gives a built-in role with a permission they do not hold (server/services/access.ts). */
  const canGrant = (role: BuiltInRole) => BUILT_IN[role].permissions.every(can)
  const canSeeAdmin = computed(() => canAny(ADMIN_PANEL_PERMISSIONS))

  /** Who is signed in (once per page load unless `force`); null when nobody. */
  function me(force = false): Promise<ApiUser | null> {
    if (checked.value && !force) return Promise.resolve(user.value)
    // the probe answers 200 {user: null} when signed out: a signed-out visit logs no failed request. The page's first
    // check was already sent by the HTML shell, before this script loaded
    const started = checked.value ? null : takeBootSession()
    checking ??= (started ? api.adopt<{ user: ApiUser | null }>('/api/auth/session', started) : api<{ user: ApiUser | null }>('/api/auth/session'))
      .then(async ({ user: value }) => {
        // this device wiped its data after five wrong PINs while offline: that session ends now
        if (value && owedSignOut.read() === value.id) {
          await api('/api/auth/logout', { method: 'POST' })
          owedSignOut.clear()
          value = null
        }
        user.value = value
        if (!value) await offline.signedOut()
        return value
      })
      .catch(async (error: unknown) => {
        if (!isApiError(error) || error.statusCode !== 0) throw error
        // no network: the user last signed in on this device opens the app from the offline copy
        else user.value ??= await offline.userWithoutServer()
        return user.value
      })
      .finally(() => { checked.value = true; checking = null })
    return checking
  }

  /** The device PIN opened the offline cache: its user is signed in on this page, without the server. */
  function resumeOffline(value: ApiUser) {
    user.value = value
    checked.value = true
  }

  /** Password step: signed in (200) or a TOTP challenge (202). Errors (401/403/429) are thrown as ApiRequestError. */
  async function login(email: string, password: string, totpCode?: string): Promise<LoginResult> {
    const body = await api<{ user: ApiUser } | { twoFactorRequired: true, challenge: string }>('/api/auth/login', {
      method: 'POST',
      body: totpCode ? { email, password, totpCode } : { email, password },
    })
    if ('challenge' in body) return { status: 'two-factor', challenge: body.challenge }
    user.value = body.user
    checked.value = true
    return { status: 'signed-in', user: body.user }
  }

  async function verify2fa(challenge: string, code: string) {
    const body = await api<{ user: ApiUser }>('/api/auth/verify-2fa', { method: 'POST', body: { challenge, code } })
    user.value = body.user
    checked.value = true
    return body.user
  }

  async function register(input: RegisterInput): Promise<RegisterResult> {
    const body = await api<{ user: ApiUser } | { verificationSent: true }>('/api/auth/register', { method: 'POST', body: { ...input } })
    if (!('user' in body)) return { status: 'verification-sent' }
    user.value = body.user
    checked.value = true
    return { status: 'signed-in', user: body.user }
  }

  /** The link mailed at sign-up; signs in, unless the account has 2FA (then the user signs in as usual). */
  async function verifyEmail(token: string) {
    await api<{ user: ApiUser }>('/api/auth/verify-email', { method: 'POST', body: { token } })
    return me(true)
  }

  /** Asks for a reset link; the answer is the same whether or not the email has an account. */
  const forgotPassword = (email: string) => api<void>('/api/auth/forgot-password', { method: 'POST', body: { email } })

  /** A new password from the mailed link; every session ends (this device's too), so the user signs in again. */
  async function resetPassword(token: string, newPassword: string) {
    await api<void>('/api/auth/reset-password', { method: 'POST', body: { token, newPassword } })
    if (user.value) await forget()
  }

  // other areas (conversation cache, offline data) clean up through this when the user leaves
  const signOutHandlers = new Set<(userId: string) => void | Promise<void>>()
  signOutHandlers.add(userId => offline.signedOut(userId))
  /** Runs `handler` with the leaving user's id whenever someone signs out or loses their session. */
  function onSignOut(handler: (userId: string) => void | Promise<void>) {
    signOutHandlers.add(handler)
    return () => signOutHandlers.delete(handler)
  }

  /** Forgets the user on this device without asking the server (the session is already gone). */
  async function forget() {
    const leaving = user.value
    user.value = null
    checked.value = true
    if (leaving) await Promise.allSettled([...signOutHandlers].map(handler => handler(leaving.id)))
  }

  async function logout() {
    await api('/api/auth/logout', { method: 'POST' }).catch(() => {})
    await forget()
  }

  async function logoutAll() {
    await api('/api/auth/logout-all', { method: 'POST' })
    await forget()
  }

  /** Changes the password; a temporary one stops holding the user. */
  async function changePassword(currentPassword: string, newPassword: string) {
    await api<void>('/api/auth/password', { method: 'PUT', body: { currentPassword, newPassword } })
    if (user.value?.mustChangePassword) await me(true)
  }

  /** The own profile: name, bio, preferences. */
  async function updateProfile(changes: { fullName?: string, bio?: string, preferences?: Partial<Preferences> }) {
    user.value = await api<ApiUser>('/api/auth/me', { method: 'PUT', body: changes })
    return user.value
  }

  /** Asks for an SMS code for `phone` (409 while the server has no SMS channel). */
  const requestPhoneCode = (phone: string) => api<void>('/api/auth/me/phone', { method: 'PUT', body: { phone } })
  async function verifyPhone(code: string) {
    user.value = await api<ApiUser>('/api/auth/me/phone/verify', { method: 'POST', body: { code } })
  }
  async function removePhone() {
    await api<void>('/api/auth/me/phone', { method: 'DELETE' })
    await me(true)
  }

  const setup2fa = (password: string) => api<TotpSetup>('/api/auth/2fa/setup', { method: 'POST', body: { password } })

  /** Confirms the first code; returns the 10 recovery codes (shown once). */
  async function enable2fa(code: string) {
    const { recoveryCodes } = await api<{ recoveryCodes: string[] }>('/api/auth/2fa/enable', { method: 'POST', body: { code } })
    await me(true)
    return recoveryCodes
  }

  async function disable2fa(password: string, code: string) {
    await api<void>('/api/auth/2fa/disable', { method: 'POST', body: { password, code } })
    await me(true)
  }

  return { user, checked, signedIn, can, canAny, canGrant, canSeeAdmin, updateProfile, requestPhoneCode, verifyPhone, removePhone, me, resumeOffline, login, verify2fa, register, verifyEmail, forgotPassword, resetPassword, onSignOut, forget, logout, logoutAll, changePassword, setup2fa, enable2fa, disable2fa }
})
