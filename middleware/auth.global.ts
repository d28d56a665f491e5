import type { Permission } from '#shared/permissions'
import type { Role } from '#shared/types'

declare module '#app' {
  interface PageMeta {
    /** Reachable without signing in (login, register). */
    public?: boolean
    /** Only these roles may open the page; others are sent home. */
    roles?: Role[]
    /** Only users with at least one of these permissions may open the page; others are sent home. */
    permissions?: Permission[]
  }
}

const ENROL_PATH = '/settings/security'

/** Sign-in gate: signed-out users go to /login (and come back after), unenrolled 2FA users to enrolment. */
export default defineNuxtRouteMiddleware(async (to) => {
  const auth = useAuthStore()
  await auth.me()
  const user = auth.user

  if (to.meta.public) {
    if (user && (to.path === '/login' || to.path === '/register')) return navigateTo(safeRedirect(to.query.redirect))
    return
  }
  if (!user) {
    return navigateTo({ path: '/login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } })
  }
  if (user.mustEnrol2fa && to.path !== ENROL_PATH) return navigateTo({ path: ENROL_PATH, query: { enrol: '1' } })
  if (to.meta.roles && !to.meta.roles.includes(user.role)) return navigateTo('/')
  if (to.meta.permissions && !to.meta.permissions.some(p => user.permissions.includes(p))) return navigateTo('/')
})

