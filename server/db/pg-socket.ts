import { connect, type Socket } from 'node:net'

interface SocketOptions { host: string[], port: number[], path: string | false, ssl?: unknown }

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
    if (!options.ssl) rejectStartupError(socket)
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
 * A start-up the server rejects (an ErrorResponse before the first ReadyForQuery: "not currently accepting
 * connections", "too many clients", "the database system is starting up") fails the query waiting for it, as a
 * socket error does.
 *
 * Why: postgres.js 3.4.9 keeps the query that was running when a connection closed (its `errored` rejects it but
 * never clears it; porsager/postgres#1130). When that connection is reused, the start-up's ErrorResponse is taken
 * for that old query's answer and held until a ReadyForQuery that never comes (the server closes after a start-up
 * error); the close then finds the waiting query still pending and reconnects at once, without delay or bound
 * (porsager/postgres#1193), for as long as the database refuses: a request after an outage that had closed a
 * connection mid-query (a frozen database's abandoned health ping) never answered. The server answers the
 * authentication first ('R'), so the failing streak above never starts on these. The error is emitted after
 * postgres.js has read the same data (next tick): when no old query is left, the start-up's own error has already
 * failed the waiting query and this one finds nothing to fail. Not on TLS, whose bytes cannot be read here.
 */
function rejectStartupError(socket: Socket) {
  let pending: Buffer = Buffer.alloc(0)
  const onData = (chunk: Buffer) => {
    pending = pending.length ? Buffer.concat([pending, chunk]) : chunk
    while (pending.length >= 5) {
      const end = pending.readUInt32BE(1) + 1
      if (pending.length < end) return
      if (pending[0] === 0x5A) return void socket.off('data', onData) // 'Z': started
      if (pending[0] === 0x45) { // 'E'
        socket.off('data', onData)
        const error = startupError(pending.subarray(5, end))
        process.nextTick(() => {
          // postgres.js's listeners stay until its close handler has run
          if (socket.listenerCount('error') > 0) socket.emit('error', error)
          socket.destroy()
        })
        return
      }
      pending = pending.subarray(end)
    }
  }
  socket.on('data', onData)
}

/** An ErrorResponse's fields as an error with PostgreSQL's SQLSTATE `code` and message (see `databaseUnavailable`). */
function startupError(body: Buffer) {
  const fields: Record<string, string> = {}
  for (let i = 0; i < body.length && body[i] !== 0;) {
    const end = body.indexOf(0, i + 1)
    if (end < 0) break
    fields[String.fromCharCode(body[i]!)] = body.toString('utf8', i + 1, end)
    i = end + 1
  }
  return Object.assign(new Error(fields.M ?? 'the database rejected the connection'), { code: fields.C, severity: fields.V ?? fields.S })
}

/**
 * postgres.js's wait before reconnecting after a failed attempt (its default: 3^retries / 100 s, up to 20 s, shared
 * by the pool), capped so that a query's wait for a connection stays near the budget.
 */
export const boundedBackoff = (budgetMs: number) => (retries: number) =>
  Math.min((0.5 + Math.random() / 2) * Math.min(3 ** retries / 100, 20), budgetMs / 2000)
