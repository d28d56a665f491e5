import { and, desc, eq, inArray, lt, lte, or, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import { asBackgroundWork, useDb } from '../db/client'
import { type Db, groupCommit, type Statement } from '../db/group-commit'
import { dialect, type Job, jobs } from '../db/schema'
import { purgeClientSends } from './client-sends'

/**
 * Durable background work, stored in the database (DESIGN.md "Second wave"): a job is enqueued (idempotently,
 * by `dedupeKey`), claimed by one worker with a lease (PostgreSQL `FOR UPDATE SKIP LOCKED`; SQLite: one atomic
 * UPDATE … WHERE id IN (SELECT …) RETURNING), renewed while it runs, retried with back-off when it fails, and
 * reclaimed by any worker once its lease has expired — so work survives a crash or restart of the app.
 */

/** A failure worth trying again later (network, 429, 5xx, model down). */
export class RetryableError extends Error {
  constructor(message: string, readonly retryAfterMs?: number) { super(message) }
}
/** A failure that another try cannot fix (a 4xx from the provider, bad payload): the job fails at once. */
export class PermanentError extends Error {}

/** What a handler gets besides the job: a way to save progress so that a re-run skips finished steps. */
export interface JobRun {
  job: Job
  /** Stores the payload as it is now (a later try, after a crash or failure, starts from it). */
  saveProgress: (payload: Record<string, unknown>) => Promise<void>
  /** Stores the final payload and marks the job done in one statement (one commit instead of two). */
  finish: (payload: Record<string, unknown>) => Promise<void>
}

/** What `run` resolves to: `'done'` when it already marked the job done in its own commit (`finish`, `jobDone`). */
export type JobOutcome = void | 'done'

export interface JobHandler {
  run: (run: JobRun) => Promise<JobOutcome>
  /** Tries before the job is marked failed (default 6: with the default back-off ≈ 10 minutes). */
  maxAttempts?: number
  /** Called once when the job fails for good (e.g. tell the user the assistant is unavailable). */
  onGiveUp?: (job: Job, error: Error) => Promise<void>
}

const handlers = new Map<string, JobHandler>()

/** Registers the code that runs jobs of `kind` (once per process, at start-up). */
export function defineJob(kind: string, handler: JobHandler) {
  handlers.set(kind, handler)
}

/**
 * JOB_* settings (utils/config.ts): `backoffMs` is the first retry delay, each next one 3× longer (5 s, 15 s, 45 s,
 * 135 s …: 3 retries span over a minute); `leaseMs` how long a claim lasts without renewal (a crashed worker's jobs
 * are taken over after it); `pollMs` and `concurrency` the worker's poll interval and jobs at once.
 */
export const jobTiming = (): JobTiming => useConfig().jobs
export interface JobTiming { backoffMs: number, leaseMs: number, pollMs: number, concurrency: number }

export const backoffDelay = (attempts: number, baseMs = jobTiming().backoffMs) => baseMs * 3 ** Math.max(0, attempts - 1)


export interface EnqueueOptions {
  dedupeKey?: string
  runAt?: Date
  /** Work handed over after a first try elsewhere: the tries already made, how the last one failed, `failed` if for good. */
  tried?: { attempts: number, lastError: string, failed: boolean }
}

/** The insert of a new job (not yet run); `onConflictDoNothing` on the dedupe key makes it idempotent. */
export function jobInsert(db: Db, kind: string, payload: Record<string, unknown>, options: EnqueueOptions = {}) {
  const now = new Date()
  const { tried } = options
  return db.insert(jobs).values({
    id: uuidv7(), kind, payload, status: tried?.failed ? 'failed' : 'pending', attempts: tried?.attempts ?? 0,
    lastError: tried?.lastError.slice(0, 500) ?? null, runAt: options.runAt ?? now,
    dedupeKey: options.dedupeKey ?? null, createdAt: now, updatedAt: now,
  }).onConflictDoNothing({ target: jobs.dedupeKey })
}

/**
 * Stores a job; with a `dedupeKey` already used, nothing is stored and `created` is false (the same Twilio
 * message, or the same reply, is never queued twice).
 */
export async function enqueue(kind: string, payload: Record<string, unknown>, options: EnqueueOptions = {}) {
  const rows = await jobInsert(useDb(), kind, payload, options).returning({ id: jobs.id })
  if (rows.length) wakeWorkers()
  return { id: rows[0]?.id ?? null, created: rows.length > 0 }
}

/** Marks a job done, as a statement to run with others in `commitTogether`. */
export const jobDone = (db: Db, id: string) =>
  db.update(jobs).set({ status: 'done', leaseUntil: null, lastError: null, updatedAt: new Date() }).where(eq(jobs.id, id))

/**
 * Runs writes all-or-nothing, through the group commit (server/db/group-commit.ts): on SQLite one batch, never a
 * transaction open across an await; on PostgreSQL one transaction. Writes arriving together share the commit.
 */
export async function commitTogether(build: (db: Db) => Statement[]) {
  await groupCommit(build)
  wakeWorkers()
}

/**
 * Claims up to `limit` of the oldest due jobs (pending and due, or running with an expired lease) for `leaseMs`, in
 * one statement (one commit however many: on SQLite each commit is a synchronous fsync on the event loop); none
 * when nothing is due.
 */
export async function claimJobs(limit: number, leaseMs = jobTiming().leaseMs): Promise<Job[]> {
  const db = useDb()
  const now = new Date()
  const due = or(
    and(eq(jobs.status, 'pending'), lte(jobs.runAt, now)),
    and(eq(jobs.status, 'running'), lt(jobs.leaseUntil, now)),
  )
  // a read first: readers never wait for SQLite's write lock, and most polls find nothing to do
  const [candidate] = await db.select({ id: jobs.id }).from(jobs).where(due).limit(1)
  if (!candidate) return []
  const oldest = db.select({ id: jobs.id }).from(jobs).where(due).orderBy(jobs.runAt).limit(limit)
  // two PostgreSQL workers never pick the same row: a locked candidate is skipped, not waited for
  const pick = dialect === 'pg' ? (oldest as unknown as { for: (s: string, o: object) => typeof oldest }).for('update', { skipLocked: true }) : oldest
  const claimed = await db.update(jobs)
    .set({ status: 'running', leaseUntil: new Date(now.getTime() + leaseMs), updatedAt: now, attempts: sqlIncrement() })
    .where(inArray(jobs.id, pick))
    .returning()
  // started oldest first (RETURNING gives no order)
  return claimed.sort((a, b) => a.runAt.getTime() - b.runAt.getTime())
}

const sqlIncrement = () => sql<number>`${jobs.attempts} + 1`

/** Extends a running job's lease (the worker does it while the job runs). */
export async function renewLease(id: string, leaseMs = jobTiming().leaseMs) {
  await useDb().update(jobs).set({ leaseUntil: new Date(Date.now() + leaseMs) })
    .where(and(eq(jobs.id, id), eq(jobs.status, 'running')))
}

/** Marks a job done. */
export async function completeJob(id: string) {
  await jobDone(useDb(), id)
}

/** Records a failed try: back to pending with back-off, or failed for good (true) after the last allowed try. */
export async function failJob(job: Job, error: Error, maxAttempts: number): Promise<boolean> {
  const now = new Date()
  const final = error instanceof PermanentError || job.attempts >= maxAttempts
  const retryAfter = error instanceof RetryableError ? error.retryAfterMs ?? 0 : 0
  const runAt = new Date(now.getTime() + Math.max(backoffDelay(job.attempts), retryAfter))
  await useDb().update(jobs).set({
    status: final ? 'failed' : 'pending',
    runAt: final ? job.runAt : runAt,
    leaseUntil: null,
    lastError: error.message.slice(0, 500),
    updatedAt: now,
  }).where(eq(jobs.id, job.id))
  return final
}

/** Puts a failed job back in line, now, with its tries counted afresh (Admin → Canales "retry"). */
export async function retryJob(id: string) {
  const now = new Date()
  const [row] = await useDb().update(jobs).set({ status: 'pending', attempts: 0, runAt: now, leaseUntil: null, updatedAt: now })
    .where(and(eq(jobs.id, id), eq(jobs.status, 'failed'))).returning()
  if (row) wakeWorkers()
  return row
}

export async function findJob(id: string) {
  const [row] = await useDb().select().from(jobs).where(eq(jobs.id, id)).limit(1)
  return row
}

/** The newest jobs of some kinds with one status. */
export const newestJobs = (kinds: string[], status: Job['status'], limit: number) =>
  useDb().select().from(jobs).where(and(inArray(jobs.kind, kinds), eq(jobs.status, status)))
    .orderBy(desc(jobs.updatedAt)).limit(limit)

/** Hands running jobs back at shutdown so that the next process (or another one) takes them over at once. */
export async function releaseJobs(ids: string[]) {
  if (!ids.length) return
  await useDb().update(jobs).set({ status: 'pending', leaseUntil: null, runAt: new Date() })
    .where(and(inArray(jobs.id, ids), eq(jobs.status, 'running')))
}

/** Deletes finished jobs older than `days` (the worker does it now and then). */
export async function purgeJobs(days = 30) {
  await useDb().delete(jobs).where(and(eq(jobs.status, 'done'), lt(jobs.updatedAt, new Date(Date.now() - days * 86_400_000))))
}

/** A failure's own words and its cause's (drizzle wraps the driver's error); never a payload. */
function reason(error: unknown) {
  const e = error as Error & { cause?: { message?: string, code?: string } }
  const first = String(e?.message ?? error).split('\n')[0]!.slice(0, 200)
  return e?.cause ? `${first} — ${e.cause.code ?? ''} ${e.cause.message ?? ''}`.trim() : first
}

// ---- the worker -------------------------------------------------------------------------------------------

const wakers = new Set<() => void>()
/**
 * Tells this process's worker there is work now (an enqueue); other processes find it on their next poll. The
 * worker starts after the current I/O callbacks, not within the enqueuing request: on SQLite every statement runs
 * synchronously, so a claim made at once would hold the webhook's answer back by its own writes.
 */
export function wakeWorkers() { setImmediate(() => { for (const wake of wakers) wake() }) }

/**
 * A small in-process worker: up to `concurrency` jobs at once, claimed from the database, each lease renewed
 * while its job runs. `stop()` stops claiming, waits up to `graceMs` for running jobs and hands back the rest.
 */
export function startWorker(options: Partial<JobTiming> = {}) {
  const timing = { ...jobTiming(), ...options }
  const running = new Map<string, Promise<void>>()
  let stopped = false
  let wake: () => void = () => {}
  const onWake = () => wake()
  wakers.add(onWake)
  let lastPurge = 0

  async function runOne(job: Job) {
    const handler = handlers.get(job.kind)
    const renew = setInterval(() => { asBackgroundWork(() => renewLease(job.id, timing.leaseMs)).catch(() => {}) }, Math.max(100, timing.leaseMs / 3))
    renew.unref()
    try {
      if (!handler) throw new PermanentError(`no handler for job kind ${job.kind}`)
      const outcome = await handler.run({
        job,
        saveProgress: async (payload) => {
          await useDb().update(jobs).set({ payload, updatedAt: new Date() }).where(eq(jobs.id, job.id))
        },
        finish: async (payload) => {
          await useDb().update(jobs).set({ payload, status: 'done', leaseUntil: null, lastError: null, updatedAt: new Date() }).where(eq(jobs.id, job.id))
        },
      })
      // every commit is a synchronous write on SQLite's event loop: a handler that completed the job itself is not rewritten
      if (outcome !== 'done') await completeJob(job.id)
    }
    catch (caught) {
      if (stopped && !(caught instanceof PermanentError)) return // shutting down: released below, not counted as a failure
      const error = caught instanceof Error ? caught : new Error(String(caught))
      const final = await failJob(job, error, handler?.maxAttempts ?? 6).catch(() => false)
      log.warn('job failed', { jobId: job.id, kind: job.kind, attempts: job.attempts, final, error: reason(error) })
      if (final && handler?.onGiveUp) await handler.onGiveUp(job, error).catch(e => log.error('job give-up failed', { jobId: job.id, error: (e as Error).message }))
    }
    finally {
      clearInterval(renew)
    }
  }

  async function loop() {
    while (!stopped) {
      try {
        while (!stopped && running.size < timing.concurrency) {
          const free = timing.concurrency - running.size
          const claimed = await asBackgroundWork(() => claimJobs(free, timing.leaseMs))
          for (const job of claimed) {
            const work = asBackgroundWork(() => runOne(job)).finally(() => { running.delete(job.id); wake() })
            running.set(job.id, work)
          }
          // fewer than asked for: nothing else is due now
          if (claimed.length < free) break
        }
        if (Date.now() - lastPurge > 3_600_000) {
          lastPurge = Date.now()
          await asBackgroundWork(() => purgeJobs())
          await asBackgroundWork(() => purgeClientSends())
        }
      }
      catch (error) {
        if (!stopped) log.error('job worker: claim failed', { error: reason(error) })
      }
      if (stopped) break
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, timing.pollMs)
        wake = () => { clearTimeout(timer); resolve() }
      })
      wake = () => {}
    }
  }

  // while the worker claims, runs a job or purges, SQLite statements yield to waiting requests first (db/client.ts);
  // its idle wait between polls is not marked
  const looping = loop()
  return {
    get running() { return running.size },
    async stop(graceMs = 5_000) {
      stopped = true
      wakers.delete(onWake)
      wake()
      await looping
      let timer: NodeJS.Timeout | undefined
      await Promise.race([Promise.allSettled(running.values()), new Promise((resolve) => { timer = setTimeout(resolve, graceMs) })])
      clearTimeout(timer)
      await releaseJobs([...running.keys()]).catch(() => {})
    },
  }
}
