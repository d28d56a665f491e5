import { onBeforeUnmount, ref } from 'vue'

/**
 * Whether a CSS media query matches, kept up to date. Read at once (the app renders in the browser only), so the
 * first render already has the right layout: no desktop render switched to the phone one in the next update.
 */
export function useMediaQuery(query: string) {
  const media = window.matchMedia(query)
  const matches = ref(media.matches)
  const onChange = () => { matches.value = media.matches }
  media.addEventListener('change', onChange)
  onBeforeUnmount(() => media.removeEventListener('change', onChange))
  return matches
}
