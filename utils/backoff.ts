const FIRST_DELAY_MS = 1000
const MAX_DELAY_MS = 30_000

/** Wait before reconnect attempt `attempt` (0-based): doubling up to 30 s, with jitter so tabs do not reconnect in step. */
export function reconnectDelay(attempt: number, random: () => number = Math.random) {
  const base = Math.min(MAX_DELAY_MS, FIRST_DELAY_MS * 2 ** Math.max(0, attempt))
  return Math.round(base / 2 + random() * base / 2)
}
