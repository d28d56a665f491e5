/**
 * Ends the current task and continues in a new one, so the browser can paint and answer input in between: start-up
 * work split at such points is several short tasks instead of one long one (Lighthouse counts every task over
 * 50 ms as blocking). `scheduler.yield()` continues ahead of other queued work where the browser has it.
 */
export function yieldToMain(): Promise<void> {
  const scheduler = (globalThis as { scheduler?: { yield?: () => Promise<void> } }).scheduler
  if (typeof scheduler?.yield === 'function') return scheduler.yield()
  return new Promise(resolve => setTimeout(resolve, 0))
}
