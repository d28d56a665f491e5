/**
 * Work that must finish before the process exits (answers being generated and saved). On SIGTERM Nitro stops
 * accepting connections and waits up to NITRO_SHUTDOWN_TIMEOUT for open streams; then its close hook stops the
 * answers still running (saved as `stopped`) and waits for those saves before the database is closed.
 * (Nitro's own forced close leaves busy sockets open, so the streams are stopped here, not by cutting sockets.)
 */
const pending = new Set<Promise<unknown>>()
const stoppers = new Set<() => void>()
const atStop = new Set<() => void>()
let draining = false

/** True from SIGTERM on (the drain, then the shutdown): /api/health answers 503 `draining`. */
export function isDraining() {
  return draining
}

/** Runs `fn` once when the process stops accepting connections (SIGTERM, after the drain): live streams close. */
export function onStopping(fn: () => void) {
  atStop.add(fn)
}

/**
 * The "preStop drain" (README "Scaling past one VPS"): on SIGTERM the process first keeps serving every request
 * for `drainMs` while /api/health answers 503, so a load balancer's active health check (the Caddyfile's, every
 * second) takes it out of rotation before its listener closes: the balancer never meets a refused connection on a
 * process it still sends to. Only then do Nitro's graceful shutdown (stop accepting, let streams finish for
 * NITRO_SHUTDOWN_TIMEOUT, close hook) and the `onStopping` work run. Nitro gives no pre-shutdown hook: its SIGTERM
 * handler is registered right after the plugins run (same tick), so it is taken off here and called after the drain.
 * SIGINT (Ctrl-C) stops at once as before.
 */
export function deferStop(drainMs: number) {
  setImmediate(() => {
    const nitroStop = process.listeners('SIGTERM')
    process.removeAllListeners('SIGTERM')
    let signalled = false
    // `on`, not `once`: a second SIGTERM during the drain must not fall back to Node's default (exit at once)
    const onSignal = () => {
      if (signalled) return
      signalled = true
      draining = true
      const stop = () => {
        for (const fn of atStop) fn()
        for (const listener of nitroStop) listener.call(process, 'SIGTERM')
        if (nitroStop.length) return
        // no graceful shutdown to hand over to (NITRO_SHUTDOWN_DISABLED): Node's default, exit on the signal
        process.removeListener('SIGTERM', onSignal)
        process.kill(process.pid, 'SIGTERM')
      }
      if (drainMs <= 0) return stop()
      log.info('draining', { ms: drainMs })
      setTimeout(stop, drainMs)
    }
    process.on('SIGTERM', onSignal)
  })
}

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
