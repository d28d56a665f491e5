/**
 * Parts read ahead while the question commits. A commit waits milliseconds, so this is far more than a model sends
 * meanwhile; it bounds the memory of a commit that waits long (a locked database, a busy machine) under a model that
 * writes fast: the rest waits in the socket, and the model server feels the back-pressure as it would from a reader.
 */
export const HOLD_AHEAD_PARTS = 64

/**
 * The parts of `source`, none before `gate` resolved; until then up to `ahead` of them are read into memory (not
 * left in the socket, where a connection that drops would take them along). Rejects with the gate's error when it
 * fails. Once the gate opens, the parts read so far go out at once: the read still in flight then is taken over, not
 * waited for first (waiting for it held the first token back by one token's time, about 5–50 ms, on every answer).
 */
export async function* holdUntil<T>(source: AsyncIterable<T>, gate: Promise<void>, ahead = HOLD_AHEAD_PARTS): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]()
  const early: T[] = []
  let reading = true
  /** The read in flight; once the gate has opened, its part is the consumer's (after `early`), not the pump's. */
  let pending: Promise<IteratorResult<T>> | undefined
  let ended = false
  let failure: { error: unknown } | undefined
  void (async () => {
    while (reading && early.length < ahead) {
      let next: IteratorResult<T>
      try { next = await (pending = it.next()) }
      catch (error) {
        if (reading) { pending = undefined; failure = { error } }
        return
      }
      if (!reading) return
      pending = undefined
      if (next.done) { ended = true; return }
      early.push(next.value)
    }
  })()
  try { await gate }
  finally { reading = false }
  yield* early
  if (failure) throw failure.error
  if (ended) return
  if (pending) {
    const next = await pending
    if (next.done) return
    yield next.value
  }
  for (;;) {
    const next = await it.next()
    if (next.done) return
    yield next.value
  }
}
