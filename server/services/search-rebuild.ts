import { type SQL, sql } from 'drizzle-orm'
import { asBackgroundWork, rawRows, useDb } from '../db/client'
import { dialect } from '../db/schema'

/**
 * PostgreSQL's migration 0012 changed what a message's search vector holds (its whole words beside its stems) and
 * left the stored vectors to this rebuild: `search_rebuild` holds one row, the id after which messages still have
 * the old vector, while the rebuild is due. Each batch is one transaction that takes the cursor row (SKIP LOCKED:
 * several app processes take turns, never the same batch), rewrites the next messages by ascending id and moves the
 * cursor, so a restart goes on where it stopped. Messages written meanwhile already get the new vector from their
 * trigger; rewriting them again gives the same value.
 */
const BATCH = 1000

type Step = 'more' | 'busy' | 'done'

/** Rewrites the next batch's vectors; 'busy' while another process holds the cursor, 'done' once none is left. */
export async function rebuildSearchBatch(size = BATCH): Promise<Step> {
  return useDb().transaction(async (tx) => {
    // PostgreSQL only (the caller checks): its transaction runs hand-written statements with execute()
    const run = <T = unknown>(query: SQL) => (tx as unknown as { execute: (q: SQL) => Promise<T[]> }).execute(query)
    const [cursor] = await run<{ after: string }>(sql`select after from search_rebuild for update skip locked`)
    if (!cursor) return (await run(sql`select 1 from search_rebuild`)).length ? 'busy' : 'done'
    // the owners are read locked (FOR SHARE): a reassignment that rewrites the same vectors with its new owner
    // (conversations_search_owner) commits wholly before or after this batch, never under it with the old owner
    const rewritten = await run<{ id: string }>(sql`
      with batch as (
        select m.id, c.user_id from messages m join conversations c on c.id = m.conversation_id
        where m.id > ${cursor.after} order by m.id limit ${size} for share of c)
      update messages m set search_vector = energy_search_vector(m.content, batch.user_id)
      from batch where m.id = batch.id returning m.id`)
    if (rewritten.length < size) {
      await run(sql`delete from search_rebuild`)
      return 'done'
    }
    const last = rewritten.reduce((max, row) => (row.id > max ? row.id : max), cursor.after)
    await run(sql`update search_rebuild set after = ${last}`)
    return 'more'
  })
}

/** Whether a rebuild is due (PostgreSQL only; SQLite's FTS5 index holds words whole). */
export async function searchRebuildDue(): Promise<boolean> {
  if (dialect !== 'pg') return false
  return (await rawRows(sql`select 1 from search_rebuild limit 1`)).length > 0
}

/**
 * Runs the rebuild in the background until it is done or `stopped()`: batch after batch on the job worker's pool,
 * waiting `busyMs` while another process holds the cursor and `retryMs` after a failure (the database restarting).
 */
export async function runSearchRebuild(stopped: () => boolean, { busyMs = 5_000, retryMs = 30_000 } = {}) {
  const wait = (ms: number) => new Promise(resolve => setTimeout(resolve, ms).unref())
  let batches = 0
  const started = Date.now()
  while (!stopped()) {
    let step: Step
    try { step = await asBackgroundWork(() => rebuildSearchBatch()) }
    catch (error) {
      log.warn('search rebuild: batch failed, trying again', { error: (error as Error).message })
      await wait(retryMs)
      continue
    }
    if (step === 'done') {
      if (batches) log.info('search rebuild: done', { batches, ms: Date.now() - started })
      return
    }
    if (step === 'busy') await wait(busyMs)
    else if (++batches % 100 === 0) log.info('search rebuild: in progress', { batches })
  }
}
