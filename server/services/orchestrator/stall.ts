/**
 * Calls `onStall` once nothing has progressed for `timeoutMs`. `progress()` only notes the time; the timer checks it
 * when it fires and is set again for what is left. (Refreshing a timer on every token was 1.6 % of a streamed
 * answer's CPU: bench/README.md, session 19.)
 */
export function stallWatch(timeoutMs: number, onStall: () => void) {
  let last = performance.now()
  const check = () => {
    const idle = performance.now() - last
    if (idle >= timeoutMs) onStall()
    else timer = setTimeout(check, timeoutMs - idle)
  }
  let timer = setTimeout(check, timeoutMs)
  return {
    progress: (now = performance.now()) => { last = now },
    clear: () => clearTimeout(timer),
  }
}
