import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { resolve } from 'node:path'
import postgres from 'postgres'
import { dialect } from '../db/schema'

/**
 * Several app processes on one database need REDIS_URL: without it each keeps its own queue, per-user mark and
 * rate limits, which is silently unfair. Every process announces itself through the database at start-up and a
 * process without Redis refuses to start next to any other (and a process with Redis next to one without):
 *
 * - PostgreSQL: an advisory lock held by one dedicated connection for the process's life, exclusive without
 *   Redis, shared with Redis. The server drops it when the connection goes, so a killed process leaves nothing.
 * - SQLite (a file): one entry per process in `<database file>.processes/`, removed at exit; an entry whose
 *   process is gone (same host, no such pid) is stale and ignored.
 */

export class ProcessConflict extends Error {}

const LOCK_KEY = 0x454E4552 // 'ENER'
const REFUSAL = 'several app processes on one database need REDIS_URL (the answer queue, the one-answer-per-user rule and the rate limits are shared through Redis): set REDIS_URL on every process, or run one process'

let lockConnection: ReturnType<typeof postgres> | undefined

export async function claimDatabase(databaseUrl: string, withRedis: boolean) {
  if (dialect === 'pg') return claimPg(databaseUrl, withRedis)
  if (databaseUrl.startsWith('file:')) return claimFile(resolve(databaseUrl.slice('file:'.length).split('?')[0]!), withRedis)
}

/** Lets the lock go at shutdown (the connection closing does it anyway). */
export async function releaseDatabase() {
  await lockConnection?.end({ timeout: 2 }).catch(() => {})
  lockConnection = undefined
}

async function claimPg(url: string, withRedis: boolean) {
  // one connection, never recycled: the lock lives as long as it does
  const sql = postgres(url, { max: 1, idle_timeout: 0, max_lifetime: 0, onnotice: () => {} })
  const [row] = withRedis
    ? await sql`select pg_try_advisory_lock_shared(${LOCK_KEY}) as ok`
    : await sql`select pg_try_advisory_lock(${LOCK_KEY}) as ok`
  if (!row?.ok) {
    await sql.end({ timeout: 2 }).catch(() => {})
    throw new ProcessConflict(withRedis
      ? `another app process uses this database without REDIS_URL; ${REFUSAL}`
      : `another app process already uses this database; ${REFUSAL}`)
  }
  lockConnection = sql
}

function alive(pid: number) {
  try { process.kill(pid, 0); return true }
  catch (error) { return (error as NodeJS.ErrnoException).code === 'EPERM' }
}

function claimFile(databaseFile: string, withRedis: boolean) {
  const dir = `${databaseFile}.processes`
  mkdirSync(dir, { recursive: true })
  const host = hostname()
  const mine = `${host}-${process.pid}`
  const path = resolve(dir, mine)
  // announce first, then look: of two processes starting at once, at least one sees the other
  writeFileSync(path, JSON.stringify({ host, pid: process.pid, redis: withRedis }))
  process.once('exit', () => rmSync(path, { force: true }))
  for (const name of readdirSync(dir)) {
    if (name === mine) continue
    let other: { host: string, pid: number, redis: boolean }
    try { other = JSON.parse(readFileSync(resolve(dir, name), 'utf8')) }
    catch { continue }
    if (other.host === host && !alive(other.pid)) {
      rmSync(resolve(dir, name), { force: true })
      continue
    }
    if (!withRedis || !other.redis) {
      rmSync(path, { force: true })
      throw new ProcessConflict(`another app process (${other.host}, pid ${other.pid}${other.redis ? '' : ', without REDIS_URL'}) uses this database; ${REFUSAL}`)
    }
  }
}
