import { connect, type Socket } from 'node:net'

interface SocketOptions { host: string[], port: number[], path: string | false }

/**
 * postgres.js's socket factory (its `socket` option) with a bound on how long a query waits for a connection.
 *
 * Why: when a server (or a proxy in front of it) accepts a connection and closes it before the start-up
 * finishes, postgres.js silently reconnects with no delay, and its `connect_timeout` restarts on every attempt,
 * so the waiting query hangs as long as the outage lasts (porsager/postgres#1193, unfixed in 3.4.9): a request
 * during an outage waited 30 s and more instead of getting its 503. Here a socket that closes before the server
 * said anything starts a failing streak; once the streak is older than `budgetMs`, new attempts fail at once with
 * CONNECT_TIMEOUT (the waiting query is rejected → 503 through `databaseUnavailable`; postgres.js puts the
 * connection back in its pool), except one real attempt every `probeMs`, which ends the streak as soon as the
 * server answers again. A connect that hangs is bounded by postgres.js's own `connect_timeout` (the same budget).
 */
export function boundedSocketFactory(budgetMs: number, probeMs = Math.min(budgetMs, 1000)) {
  let failingSince: number | undefined
  let lastProbe = 0
  let next = 0
  return (options: SocketOptions): Socket => {
    const i = next++ % options.port.length
    const socket = options.path ? connect(options.path) : connect(options.port[i]!, options.host[i]!)
    let heard = false
    // a server that answers the start-up with an error ('E': "not accepting connections", "too many clients") is as
    // unreachable as one that closes at once: only another first answer ends the failing streak
    socket.once('data', (chunk: Buffer) => {
      if (chunk[0] === 0x45) return
      heard = true
      failingSince = undefined
    })
    socket.once('close', () => { if (!heard) failingSince ??= Date.now() })
    const now = Date.now()
    if (failingSince !== undefined && now - failingSince > budgetMs) {
      if (now - lastProbe >= probeMs) lastProbe = now
      // after postgres.js has put its listeners on the socket (it awaits this factory's result)
      else setImmediate(() => socket.destroy(Object.assign(new Error(`no database connection within ${budgetMs} ms`), { code: 'CONNECT_TIMEOUT' })))
    }
    return socket
  }
}

/**
 * postgres.js's wait before reconnecting after a failed attempt (its default: 3^retries / 100 s, up to 20 s, shared
 * by the pool), capped so that a query's wait for a connection stays near the budget.
 */
export const boundedBackoff = (budgetMs: number) => (retries: number) =>
  Math.min((0.5 + Math.random() / 2) * Math.min(3 ** retries / 100, 20), budgetMs / 2000)
