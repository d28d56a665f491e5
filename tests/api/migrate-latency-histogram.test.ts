import { uuidv7 } from 'uuidv7'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { dbTime } from '../support/db'
import { Client, DEMO } from '../support/http'
import { median, packHistogram } from '../support/latency'
import { migrationsUpTo } from '../support/migrations'
import { createTestDatabase, type RunningServer, startServer, type TestDatabase } from '../support/server'
import { sqlRun } from './admin-support'

// Migration 0011 backfills `latency_user_histogram` (one packed `ms:answers,…` row per person-day) from the
// answers already in `latency_user_daily`: a database migrated up to 0010 gets answers, then the server starts with
// every migration, and the packed rows and the supervisor's medians equal those computed here from the answers.

const DAY_MS = 86_400_000
const kind = inject('dbKind')
const cleanups: Array<() => Promise<void> | void> = []
afterAll(async () => { for (const cleanup of cleanups.reverse()) await cleanup() })

async function started(db: TestDatabase, env: Record<string, string> = {}) {
  const server: RunningServer = await startServer({ DATABASE_URL: db.url, ...env })
  cleanups.push(async () => { await server.stop() })
  return server
}

describe('migration 0011: latency_user_histogram backfilled from existing answers', () => {
  it('one packed row per person-day with answers; the supervisor\'s medians unchanged by the migration', async () => {
    const db = await createTestDatabase(kind, { empty: true }) // migrated below only to 0010, by hand
    cleanups.push(() => db.drop())
    const before = await started(db, { MIGRATIONS_DIR: migrationsUpTo(kind, 10, remove => cleanups.push(remove)) })
    const tableCount = kind === 'pg'
      ? `select count(*) as n from information_schema.tables where table_name = 'latency_user_histogram'`
      : `select count(*) as n from sqlite_master where name = 'latency_user_histogram'`
    expect(Number((await sqlRun<{ n: unknown }>(tableCount, [], db.url))[0]!.n)).toBe(0)

    const ids = Object.fromEntries(await Promise.all(Object.entries(DEMO).map(async ([role, { email }]) =>
      [role, (await sqlRun<{ id: string }>('select id from users where email = ?', [email], db.url))[0]!.id])))
    const now = Date.now()
    // per person, per day ago: the answers' first-token latencies (repeats included)
    const answers: Record<string, number[][]> = {
      worker: [[120, 120, 95, 3000], [410, 12]],
      supervisor: [[7, 120], [], [55, 55, 55]],
      admin: [[999, 1]],
    }
    for (const [role, perDay] of Object.entries(answers)) {
      for (const [daysAgo, values] of perDay.entries()) {
        if (!values.length) continue
        const at = new Date(now - daysAgo * DAY_MS - 60_000)
        const conversation = uuidv7()
        await sqlRun('insert into conversations (id, user_id, title, model, pinned, archived, created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?)',
          [conversation, ids[role], 'Antes de 0011', 'qwen2.5:3b-instruct', false, false, dbTime(at, db.url), dbTime(at, db.url)], db.url)
        for (const [i, ms] of values.entries()) {
          await sqlRun('insert into messages (id, conversation_id, role, content, status, model, first_token_ms, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)',
            [uuidv7(), conversation, 'assistant', 'a', 'complete', 'qwen2.5:3b-instruct', ms, dbTime(new Date(at.getTime() + i), db.url)], db.url)
        }
      }
    }
    await before.stop()

    const after = await started(db)
    const today = Math.floor((now - 60_000) / DAY_MS)
    const rows = await sqlRun<{ user_id: string, day: unknown, histogram: string }>('select user_id, day, histogram from latency_user_histogram order by user_id, day', [], db.url)
    const expectedRows = Object.entries(answers).flatMap(([role, perDay]) => perDay.map((values, daysAgo) => ({ values, daysAgo }))
      .filter(({ values }) => values.length)
      .map(({ values, daysAgo }) => ({ user_id: ids[role], day: today - daysAgo, histogram: packHistogram(values) })))
    expect(rows.map(r => ({ ...r, day: Number(r.day) }))).toEqual(expect.arrayContaining(expectedRows))
    expect(rows).toHaveLength(expectedRows.length)

    // the demo supervisor's team is the supervisor and the demo worker
    const supervisor = new Client(after.url)
    await supervisor.login(DEMO.supervisor.email, DEMO.supervisor.password)
    const res = await supervisor.get('/api/admin/stats?days=7')
    expect(res.status).toBe(200)
    const team = [answers.worker!, answers.supervisor!]
    const dateAgo = (daysAgo: number) => new Date((today - daysAgo) * DAY_MS).toISOString().slice(0, 10)
    const shown = Object.fromEntries(res.body.data.filter((d: any) => d.medianFirstTokenMs !== null).map((d: any) => [d.date, d.medianFirstTokenMs]))
    expect(shown).toEqual(Object.fromEntries([0, 1, 2].map(d => [dateAgo(d), median(team.flatMap(p => p[d] ?? []))])))
    expect(res.body.totals.medianFirstTokenMs).toBe(median(team.flat(2)))
  })
})
