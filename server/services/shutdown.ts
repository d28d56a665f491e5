/**
 * Work that must finish before the process exits (answers being generated and saved). On SIGTERM Nitro stops
 * accepting connections and waits up to NITRO_SHUTDOWN_TIMEOUT for open streams; then its close hook stops the
 * answers still running (saved as `stopped`) and waits for those saves before the database is closed.
 * (Nitro's own forced close leaves busy sockets open, so the streams are stopped here, not by cutting sockets.)
 */
const pending = new Set<Promise<unknown>>()
const stoppers = new Set<() => void>()

/** Registers how to stop a running answer at shutdown; returns the unregister function. */
export function onShutdown(stop: () => void): () => void {
  stoppers.add(stop)
  return () => stoppers.delete(stop)
}

/** Stops every registered answer (each then saves what it has as `stopped`). */
export function stopAll() {
  for (const stop of stoppers) stop()
}

export function trackWork<T>(work: Promise<T>): Promise<T> {
  pending.add(work)
  work.then(() => pending.delete(work), () => pending.delete(work))
  return work
}

/** Waits for tracked work to settle, at most `timeoutMs`. */
export async function drainWork(timeoutMs: number) {
  if (!pending.size) return
  let timer: NodeJS.Timeout | undefined
  await Promise.race([
    Promise.allSettled([...pending]),
    new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs) }),
  ])
  clearTimeout(timer)
}
