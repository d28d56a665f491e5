import { watch } from 'vue'

/** Resolves true once `condition` holds (checked on every change), or false after `ms`. */
export function until(condition: () => boolean, ms: number): Promise<boolean> {
  if (condition()) return Promise.resolve(true)
  return new Promise((resolve) => {
    const timer = setTimeout(() => { stop(); resolve(false) }, ms)
    const stop = watch(condition, (ok) => {
      if (!ok) return
      clearTimeout(timer)
      stop()
      resolve(true)
    })
  })
}
