/**
 * A per-key queue for this process: `queue(key, task)` runs `task` after every earlier task of the same key has
 * settled, so the read-check-write steps of one key never interleave. Each caller makes its own (separate maps:
 * a task of one queue may wait on another queue with the same key without waiting on itself).
 */
export function keyedQueue() {
  const tails = new Map<string, Promise<unknown>>()
  return function queue<T>(key: string, task: () => Promise<T>): Promise<T> {
    const run = (tails.get(key) ?? Promise.resolve()).then(task)
    const settled = run.catch(() => {})
    tails.set(key, settled)
    void settled.then(() => { if (tails.get(key) === settled) tails.delete(key) })
    return run
  }
}
