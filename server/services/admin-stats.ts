import { and, count, countDistinct, eq, gt, gte, inArray, sql, sum } from 'drizzle-orm'
import { type AdminStats, type DailyStats, STATS_TOP_USERS, type TeamUsage, type UserUsage } from '#shared/admin'
import { inList, listValue, rawRows, readRows, useDb } from '../db/client'
import { conversations, dialect, latencyDaily, usageDaily, type User, users } from '../db/schema'
import { type Viewer, visibleUserIds } from './access'
import { type LatencyMedians, packedMedians } from './latency-histogram'

const DAY_MS = 86_400_000

const dateOf = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10)

/**
 * Exact medians from the latency rollups, as packed `ms:answers,…` strings: for an unscoped viewer the
 * company-wide histogram (migration 0006), packed per day by the database (a month is ~12k (day, latency) pairs
 * at 1M messages; as rows, their conversion to objects in the driver was most of the request's CPU); for a team,
 * its members' per-day histograms (migration 0011), stored packed — one row per person-day, ~1,500 for a team of
 * 50 over a month, where the unpacked per-owner rollup (0010) was ~110k rows.
 */
async function rolledUpMedians(firstDay: number, scope: string[] | null): Promise<LatencyMedians> {
  if (scope) {
    const rows = await readRows(`select day, histogram from latency_user_histogram where ${inList('user_id')} and day >= ?`, [listValue(scope), firstDay])
    return packedMedians(rows.map(([day, histogram]) => [Number(day), String(histogram)]))
  }
  const pair = sql`${latencyDaily.ms} || ':' || ${latencyDaily.answers}`
  const packed = await rawRows<{ d: number, h: string }>(sql`select ${latencyDaily.day} as d,
      ${dialect === 'pg' ? sql`string_agg(${pair}, ',')` : sql`group_concat(${pair}, ',')`} as h
    from ${latencyDaily} where ${latencyDaily.day} >= ${firstDay} and ${latencyDaily.answers} > 0 group by ${latencyDaily.day}`)
  return packedMedians(packed.map(({ d, h }) => [Number(d), h]))
}

/**
 * Per-day usage over the last `days` UTC days (today included) for the conversations `viewer` may see:
 * messages, active users (owners of a conversation with a message that day), tokens, and the median
 * first-token latency of the answers. Everything comes from rollups kept in step by triggers: counts from
 * `usage_daily`, latencies from `latency_daily` or, for a team, `latency_user_histogram`.
 */
export async function usageStats(viewer: Viewer, days: number): Promise<AdminStats> {
  const now = new Date()
  const firstDay = Math.floor(now.getTime() / DAY_MS) - (days - 1)
  const from = new Date(firstDay * DAY_MS)
  const scope = await visibleUserIds(viewer, 'conversations')
  const db = useDb()
  const where = and(gte(usageDaily.day, firstDay), gt(usageDaily.messages, 0), scope ? inArray(usageDaily.userId, scope) : undefined)
  const [perDay, latencies, [range], [created], perUser] = await Promise.all([
    db.select({
      d: usageDaily.day,
      messages: sum(usageDaily.messages).mapWith(Number),
      activeUsers: count(),
      promptTokens: sum(usageDaily.promptTokens).mapWith(Number),
      completionTokens: sum(usageDaily.completionTokens).mapWith(Number),
    }).from(usageDaily).where(where).groupBy(usageDaily.day),
    rolledUpMedians(firstDay, scope),
    db.select({ activeUsers: countDistinct(usageDaily.userId) }).from(usageDaily).where(where),
    db.select({ n: count() }).from(conversations)
      .where(and(gte(conversations.createdAt, from), scope ? inArray(conversations.userId, scope) : undefined)),
    db.select({
      userId: usageDaily.userId,
      name: users.fullName,
      supervisorId: users.supervisorId,
      messages: sum(usageDaily.messages).mapWith(Number),
      promptTokens: sum(usageDaily.promptTokens).mapWith(Number),
      completionTokens: sum(usageDaily.completionTokens).mapWith(Number),
    }).from(usageDaily).innerJoin(users, eq(users.id, usageDaily.userId)).where(where).groupBy(usageDaily.userId, users.fullName, users.supervisorId),
  ])
  const { byUser, byTeam } = await breakdowns(perUser)
  const byDay = new Map(perDay.map(r => [Number(r.d), r]))
  const data: DailyStats[] = Array.from({ length: days }, (_, i) => {
    const row = byDay.get(firstDay + i)
    const promptTokens = Number(row?.promptTokens ?? 0)
    const completionTokens = Number(row?.completionTokens ?? 0)
    return {
      date: dateOf(firstDay + i),
      messages: Number(row?.messages ?? 0),
      activeUsers: Number(row?.activeUsers ?? 0),
      promptTokens,
      completionTokens,
      tokens: promptTokens + completionTokens,
      medianFirstTokenMs: latencies.byDay.get(firstDay + i) ?? null,
    }
  })
  const total = (key: 'messages' | 'promptTokens' | 'completionTokens' | 'tokens') => data.reduce((n, d) => n + d[key], 0)
  return {
    days,
    from: from.toISOString(),
    to: now.toISOString(),
    data,
    totals: {
      messages: total('messages'),
      activeUsers: Number(range?.activeUsers ?? 0),
      promptTokens: total('promptTokens'),
      completionTokens: total('completionTokens'),
      tokens: total('tokens'),
      medianFirstTokenMs: latencies.overall,
      conversations: Number(created?.n ?? 0),
    },
    byUser,
    byTeam,
  }
}

type PerUser = { userId: string, name: string, supervisorId: string | null, messages: number, promptTokens: number | null, completionTokens: number | null }

/** Per-person and per-team usage from the per-person rows (already within the viewer's scope). */
async function breakdowns(rows: PerUser[]): Promise<{ byUser: UserUsage[], byTeam: TeamUsage[] }> {
  const people = rows.map(r => ({ ...r, messages: Number(r.messages), tokens: Number(r.promptTokens ?? 0) + Number(r.completionTokens ?? 0) }))
    .sort((a, b) => b.messages - a.messages || a.name.localeCompare(b.name))
  const teams = new Map<string | null, TeamUsage>()
  for (const p of people) {
    const team = teams.get(p.supervisorId) ?? { supervisorId: p.supervisorId, name: null, members: 0, messages: 0, tokens: 0 }
    team.members++
    team.messages += p.messages
    team.tokens += p.tokens
    teams.set(p.supervisorId, team)
  }
  const supervisorIds = [...teams.keys()].filter((id): id is string => !!id)
  const names = supervisorIds.length ? await useDb().select({ id: users.id, name: users.fullName }).from(users).where(inArray(users.id, supervisorIds)) : []
  for (const { id, name } of names) teams.get(id)!.name = name
  return {
    byUser: people.slice(0, STATS_TOP_USERS).map(({ userId, name, messages, tokens }) => ({ userId, name, messages, tokens })),
    byTeam: [...teams.values()].sort((a, b) => b.messages - a.messages),
  }
}
