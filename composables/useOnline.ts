let listening = false

/** Whether the browser believes it has a network connection (navigator.onLine, kept up to date). */
export function useOnline() {
  const online = useState('online', () => (typeof navigator === 'undefined' ? true : navigator.onLine))
  if (import.meta.client && !listening) {
    listening = true
    window.addEventListener('online', () => (online.value = true))
    window.addEventListener('offline', () => (online.value = false))
  }
  return readonly(online)
}
