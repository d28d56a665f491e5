import postgres from 'postgres'
import { describe, expect, inject, it } from 'vitest'
import type { Client } from '../support/http'
import { median } from '../support/latency'
import { demoAdmin, insertConversation, makeTeam, sqlRun } from './admin-support'

// A team's median first-token latencies come from the per-owner rollups — `latency_user_daily` (migration 0010),
// packed per person-day into `latency_user_histogram` (0011) — kept in step by triggers. Here they are checked against the medians computed from the raw answers, after every
// kind of write the triggers must follow: inserts, a conversation reassigned to another team, a conversation
// deleted, one answer deleted, one answer's latency changed, one answer moved to another team's conversation.

const DAY_MS = 86_400_000
const DAYS = 7

/** Per-day and overall medians of the team's answers, straight from `messages` (by the conversation's owner now). */
async function rawMedians(members: string[]) {
  const firstDay = Math.floor(Date.now() / DAY_MS) - (DAYS - 1)
  const rows = await sqlRun<{ ms: number, at: Date | number }>(
    `select m.first_token_ms as ms, m.created_at as at from messages m join conversations c on c.id = m.conversation_id
     where m.role = 'assistant' and m.first_token_ms is not null and c.user_id in (${members.map(() => '?').join(', ')})`, members)
  const byDay = new Map<string, number[]>()
  const all: number[] = []
  for (const { ms, at } of rows) {
    const time = new Date(at).getTime()
    if (Math.floor(time / DAY_MS) < firstDay) continue
    const date = new Date(time).toISOString().slice(0, 10)
    byDay.set(date, [...byDay.get(date) ?? [], Number(ms)])
    all.push(Number(ms))
  }
  return { byDay: Object.fromEntries([...byDay].map(([date, values]) => [date, median(values)])), overall: median(all) }
}

async function shownMedians(supervisor: Client) {
  const res = await supervisor.get(`/api/admin/stats?days=${DAYS}`)
  expect(res.status).toBe(200)
  const byDay = Object.fromEntries(res.body.data.filter((d: any) => d.medianFirstTokenMs !== null).map((d: any) => [d.date, d.medianFirstTokenMs]))
  return { byDay, overall: res.body.totals.medianFirstTokenMs }
}

describe('GET /api/admin/stats: a supervisor\'s latency medians equal those of the raw answers', () => {
  it('after inserts, a reassign to another team, a deleted conversation, a deleted answer, a changed latency and a moved answer', async () => {
    const admin = await demoAdmin()
    const a = await makeTeam(admin, 2)
    const b = await makeTeam(admin, 1)
    const teamA = [a.supervisor.id, ...a.workers.map(w => w.id)]
    const teamB = [b.supervisor.id, ...b.workers.map(w => w.id)]
    const now = Date.now()
    const answers = (daysAgo: number, latencies: number[]) => latencies.flatMap((ms, i) => {
      const at = new Date(now - daysAgo * DAY_MS + i * 2)
      return [
        { role: 'user' as const, content: 'q', at },
        { role: 'assistant' as const, content: 'a', at: new Date(at.getTime() + 1), promptTokens: 3, completionTokens: 2, firstTokenMs: ms },
      ]
    })
    const moved = await insertConversation(a.workers[0]!.id, { messages: [...answers(0, [110, 120, 130]), ...answers(1, [900, 910])] })
    const deleted = await insertConversation(a.workers[1]!.id, { messages: [...answers(0, [500, 520]), ...answers(2, [40])] })
    const kept = await insertConversation(a.workers[1]!.id, { messages: [...answers(0, [300, 310, 110]), ...answers(1, [60])] })
    const teamBs = await insertConversation(b.workers[0]!.id, { messages: [...answers(0, [700, 720]), ...answers(2, [800])] })
    // an answer older than the range counts nowhere
    await insertConversation(a.workers[0]!.id, { at: new Date(now - 20 * DAY_MS), messages: answers(20, [1]) })

    const agrees = async () => {
      const [shownA, rawA, shownB, rawB] = [await shownMedians(a.supervisor.client), await rawMedians(teamA), await shownMedians(b.supervisor.client), await rawMedians(teamB)]
      expect(shownA).toEqual(rawA)
      expect(shownB).toEqual(rawB)
      return { a: shownA, b: shownB }
    }
    const before = await agrees()
    expect(before.a.overall).toBe(median([110, 120, 130, 900, 910, 500, 520, 40, 300, 310, 110, 60]))
    expect(before.b.overall).toBe(720)

    // the conversation (and its five answers) moves to team B: counted by its new owner from now on
    expect((await admin.patch(`/api/admin/conversations/${moved}/reassign`, { targetUserId: b.workers[0]!.id })).status).toBe(200)
    const reassigned = await agrees()
    expect(reassigned.a.overall).toBe(median([500, 520, 40, 300, 310, 110, 60]))
    expect(reassigned.b.overall).toBe(median([700, 720, 800, 110, 120, 130, 900, 910]))

    expect((await admin.delete(`/api/conversations/${deleted}`)).status).toBe(204)
    const [answer] = await sqlRun<{ id: string }>('select id from messages where conversation_id = ? and first_token_ms = ?', [kept, 300])
    await sqlRun('delete from messages where id = ?', [answer!.id])
    await sqlRun('update messages set first_token_ms = ? where conversation_id = ? and first_token_ms = ?', [990, kept, 310])
    const edited = await agrees()
    expect(edited.a.overall).toBe(median([990, 110, 60]))

    // one answer moved into a conversation of the other team
    await sqlRun('update messages set conversation_id = ? where conversation_id = ? and first_token_ms = ?', [teamBs, kept, 60])
    const movedAnswer = await agrees()
    expect(movedAnswer.a.overall).toBe(median([990, 110]))
    expect(movedAnswer.b.overall).toBe(median([700, 720, 800, 110, 120, 130, 900, 910, 60]))
  })

  // Scope is by the supervisor a person has now (API.md "Roles and scope"), and the rollups by the conversation's
  // owner: a worker moved to another team takes all their answers along, those from before the move included.
  it('a worker moved to another team: their answers count for the new team only; medians from the inserted latencies', async () => {
    const admin = await demoAdmin()
    const a = await makeTeam(admin, 2)
    const b = await makeTeam(admin, 1)
    const now = Date.now()
    const latencies = { stays: [[40, 41, 300], [75]], moves: [[500, 510, 520, 530], [90, 95]], teamB: [[60, 61], [980]] }
    const write = async (userId: string, perDay: number[][]) => {
      for (const [daysAgo, values] of perDay.entries()) {
        await insertConversation(userId, {
          at: new Date(now - daysAgo * DAY_MS - 60_000),
          messages: values.flatMap((ms, i) => {
            const at = new Date(now - daysAgo * DAY_MS - 50_000 + i * 10)
            return [{ role: 'user' as const, content: 'q', at }, { role: 'assistant' as const, content: 'a', at: new Date(at.getTime() + 1), firstTokenMs: ms }]
          }),
        })
      }
    }
    await write(a.workers[0]!.id, latencies.stays)
    await write(a.workers[1]!.id, latencies.moves)
    await write(b.workers[0]!.id, latencies.teamB)
    const dateAgo = (daysAgo: number) => new Date(now - daysAgo * DAY_MS - 50_000).toISOString().slice(0, 10)
    const expected = (...people: number[][][]) => ({
      byDay: Object.fromEntries([0, 1].map(d => [dateAgo(d), median(people.flatMap(p => p[d] ?? []))])),
      overall: median(people.flat(2)),
    })
    expect(await shownMedians(a.supervisor.client)).toEqual(expected(latencies.stays, latencies.moves))
    expect(await shownMedians(b.supervisor.client)).toEqual(expected(latencies.teamB))

    const res = await admin.patch(`/api/admin/users/${a.workers[1]!.id}`, { supervisorId: b.supervisor.id })
    expect(res.status).toBe(200)
    // the supervisors' next requests see the new teams (their user, with its scope, may be cached up to AUTH_CACHE_MS)
    await expect.poll(() => shownMedians(a.supervisor.client)).toEqual(expected(latencies.stays))
    await expect.poll(() => shownMedians(b.supervisor.client)).toEqual(expected(latencies.teamB, latencies.moves))
  })

  // PostgreSQL: each answer's trigger rebuilds its person-day's string from the range; two transactions changing
  // different latencies of one person-day must not each write a string that lacks the other's answer (0011 locks
  // the person-day's row; usage_daily's upsert happens to serialize them too)
  it('answers of one person and day written at once by many transactions are all counted', async () => {
    const admin = await demoAdmin()
    const team = await makeTeam(admin, 1)
    const worker = team.workers[0]!.id
    const conversation = await insertConversation(worker)
    const latencies = Array.from({ length: 40 }, (_, i) => 100 + i)
    const insert = 'insert into messages (id, conversation_id, role, content, status, model, first_token_ms, created_at) values (?, ?, ?, ?, ?, ?, ?, ?)'
    const args = (ms: number) => [`${conversation}-${ms}`, conversation, 'assistant', 'a', 'complete', 'qwen2.5:3b-instruct', ms, new Date()]
    if (inject('dbKind') === 'pg') {
      const pool = postgres(inject('databaseUrl'), { max: 10, onnotice: () => {} })
      try {
        await Promise.all(latencies.map((ms) => {
          let n = 0
          return pool.unsafe(insert.replace(/\?/g, () => `$${++n}`), args(ms).map(a => a instanceof Date ? a.toISOString() : a) as never[])
        }))
      }
      finally { await pool.end({ timeout: 5 }) }
    }
    else {
      await Promise.all(latencies.map(ms => sqlRun(insert, args(ms))))
    }
    const [row] = await sqlRun<{ histogram: string }>('select histogram from latency_user_histogram where user_id = ?', [worker])
    expect(row!.histogram.split(',').sort()).toEqual(latencies.map(ms => `${ms}:1`).sort())
    expect((await shownMedians(team.supervisor.client)).overall).toBe(median(latencies))
  })
})
