import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type { Query } from './hand-written'

/**
 * The SQLite commits of the group commit (server/db/group-commit.ts), run on a thread of their own. libSQL's calls
 * are synchronous: on the main thread every COMMIT held the event loop for its fsync (`synchronous` stays FULL, so a
 * committed message survives a power cut), and every stream and request waited for it: libSQL `run` was the
 * largest share of the main thread's busy time at 50 streams after the statement cache (bench/README.md "session
 * 14"). The thread has its own connection with its statements prepared once, and runs BEGIN IMMEDIATE … COMMIT per
 * commit; the main thread keeps its reads (WAL: they see each commit once its promise resolves).
 *
 * The thread holds the process open only while a commit is pending.
 */
export interface SqliteWriter {
  commit: (statements: readonly Query[]) => Promise<void>
  close: () => Promise<void>
}

interface Reply { id: number, error?: { message: string, name?: string, code?: string } }

export function sqliteWriter(file: string, timeoutMs = 5000): SqliteWriter {
  let worker: Worker | undefined
  let nextId = 0
  const pending = new Map<number, { resolve: () => void, reject: (error: Error) => void }>()
  /** Called when the last pending commit settles (close waits for it). */
  let drained: (() => void) | undefined

  function settled() {
    if (pending.size) return
    worker?.unref()
    drained?.()
  }

  function failAll(error: Error) {
    for (const p of pending.values()) p.reject(error)
    pending.clear()
    settled()
  }

  function start() {
    const driver = createRequire(import.meta.url).resolve('libsql')
    // a small heap: the thread holds its statements and one batch at a time (its default heap sizes cost the process
    // ~10 MB more at 50 streams; bench/README.md "session 14")
    const resourceLimits = { maxYoungGenerationSizeMb: 1, maxOldGenerationSizeMb: 32 }
    const thread = new Worker(`(${writerThread})(require('node:worker_threads'), require)`, { eval: true, workerData: { driver, file, timeoutMs }, resourceLimits })
    thread.unref()
    thread.on('message', ({ id, error }: Reply) => {
      const p = pending.get(id)
      pending.delete(id)
      if (error) p?.reject(Object.assign(new Error(error.message), { name: error.name ?? 'SqliteError', code: error.code }))
      else p?.resolve()
      settled()
    })
    // a thread that fails or stops fails its pending commits (as a lost connection: 503, retried by the answer's
    // save); the next commit starts a new one. Only the current thread's: the `exit` that follows an `error` (or a
    // close) must not fail the commits a newer thread already took
    const lost = (cause?: unknown) => {
      if (worker !== thread) return
      worker = undefined
      failAll(Object.assign(new Error('the SQLite writer thread stopped', { cause }), { code: 'SQLITE_IOERR' }))
    }
    thread.on('error', lost)
    thread.on('exit', () => lost())
    return thread
  }

  return {
    commit(statements) {
      const thread = (worker ??= start())
      return new Promise<void>((resolve, reject) => {
        const id = nextId++
        if (pending.size === 0) thread.ref()
        pending.set(id, { resolve, reject })
        thread.postMessage({ id, statements })
      })
    },
    /** Lets the pending commits finish, then stops the thread. */
    async close() {
      if (pending.size) await new Promise<void>(resolve => (drained = resolve))
      const thread = worker
      worker = undefined
      await thread?.terminate()
    },
  }
}

interface ThreadModules {
  parentPort: import('node:worker_threads').MessagePort | null
  workerData: { driver: string, file: string, timeoutMs: number }
}

/**
 * The thread's whole program. Its source text is what the thread runs (`eval`: the server is bundled, so there is
 * no file of its own to point a Worker at), so it uses nothing but its parameters.
 */
function writerThread({ parentPort, workerData }: ThreadModules, load: (id: string) => unknown) {
  const Database = load(workerData.driver) as typeof import('libsql')
  const db = new Database(workerData.file, { timeout: workerData.timeoutMs })
  const statements = new Map<string, import('libsql').Statement>()
  const prepared = (text: string) => {
    let statement = statements.get(text)
    if (!statement) statements.set(text, statement = db.prepare(text))
    return statement
  }
  parentPort!.on('message', ({ id, statements: queries }: { id: number, statements: Array<{ text: string, args: unknown[] }> }) => {
    try {
      prepared('begin immediate').run()
      try {
        for (const { text, args } of queries) {
          const statement = prepared(text)
          // a RETURNING clause makes a statement a reader: stepped through its rows, as @libsql/client does
          if (statement.reader) statement.all(...args)
          else statement.run(...args)
        }
        prepared('commit').run()
      }
      catch (error) {
        if (db.inTransaction) prepared('rollback').run()
        throw error
      }
      parentPort!.postMessage({ id })
    }
    catch (error) {
      const e = error as { message?: string, name?: string, code?: string }
      parentPort!.postMessage({ id, error: { message: String(e?.message ?? error), name: e?.name, code: e?.code } })
    }
  })
}
