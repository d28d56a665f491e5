import type { Permission } from '#shared/permissions'
import layouts from '#build/layouts.mjs'
import { warmDateFormatters } from '~/i18n'
import { ADMIN_TABS } from '~/utils/admin-tabs'

declare module '#app' {
  interface PageMeta {
    /** Reachable without signing in (login, register). */
    public?: boolean
    /** Only users holding at least one of these permissions may open the page; others are sent home. */
    permissions?: Permission[]
    /**
     * The page's first screen shows no dates (the chat): its date formatters are not built ahead. The first Intl
     * formatter of a language loads its locale data, one 20–70 ms task on a phone for a page that does not need it.
     */
    noDates?: boolean
  }
}

const ENROL_PATH = '/settings/security'
const CHANGE_PASSWORD_PATH = '/change-password'

/**
 * Sign-in gate: signed-out users go to /login (and come back after), users with a temporary password to the
 * change-password screen, unenrolled 2FA users to enrolment; pages ask for permissions, never role names.
 */
export default defineNuxtRouteMiddleware(async (to) => {
  const auth = useAuthStore()
  // signed-in pages show dates: their formatters are built while the session is being checked
  if (!to.meta.public && !to.meta.noDates) warmDateFormatters(useAppStore().locale)
  // what the first page needs downloads while the session is checked, not after it: its code, its layout's (which
  // NuxtLayout would only ask for once the page renders) and, for a conversation, the Markdown renderer its answers
  // wait for. On a phone's connection each of these is a round trip less before the first paint.
  if (!auth.checked) {
    void preloadRouteComponents(to)
    preloadLayout(to.meta.layout)
    if (to.path.startsWith('/chat/')) preloadMarkdown()
  }
  await auth.me()
  const user = auth.user

  if (to.meta.public) {
    if (user && (to.path === '/login' || to.path === '/register')) return navigateTo(safeRedirect(to.query.redirect))
    return
  }
  if (!user) {
    return navigateTo({ path: '/login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } })
  }
  // a temporary password first (the server refuses everything else), then 2FA enrolment
  if (user.mustChangePassword) return to.path === CHANGE_PASSWORD_PATH ? undefined : navigateTo(CHANGE_PASSWORD_PATH)
  if (to.path === CHANGE_PASSWORD_PATH) return navigateTo('/')
  if (user.mustEnrol2fa && to.path !== ENROL_PATH) return navigateTo({ path: ENROL_PATH, query: { enrol: '1' } })
  if (to.meta.permissions && !auth.canAny(to.meta.permissions)) {
    // "Administración" opens the first tab this user may see
    const tab = to.path === '/admin' ? ADMIN_TABS.find(t => auth.canAny(t.permissions)) : undefined
    return navigateTo(tab?.to ?? '/')
  }
})

type AsyncComponent = { __asyncLoader?: () => Promise<unknown>, __asyncResolved?: unknown }

/** Starts loading a layout's chunk (Nuxt's layouts are async components, as in its own preloadComponents). */
function preloadLayout(name: unknown) {
  const layout = (layouts as Record<string, AsyncComponent | undefined>)[typeof name === 'string' ? name : 'default']
  if (layout?.__asyncLoader && !layout.__asyncResolved) void layout.__asyncLoader().catch(() => {})
}
