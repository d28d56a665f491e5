import type { Pinia, StoreGeneric } from 'pinia'
import { KEPT_ON_SIGN_OUT } from '~/utils/stores'

/**
 * One sign-out path for every store: when someone signs out or loses their session, each store created on this
 * page load runs its own `$reset()`, so the next person to sign in on the device sees none of the last one's
 * data (tests/unit/store-reset.test.ts checks every store defines one). The Markdown colours cache goes too.
 */
export default defineNuxtPlugin((nuxtApp) => {
  const pinia = nuxtApp.$pinia as Pinia & { _s: Map<string, StoreGeneric> }
  useAuthStore().onSignOut(() => {
    for (const [id, store] of pinia._s) {
      if (KEPT_ON_SIGN_OUT.has(id)) continue
      try { store.$reset() }
      catch (error) { console.warn(`store ${id} has no $reset()`, error) }
    }
    // the coloured code blocks of the last person's answers, kept outside any store
    forgetColours()
  })
})
