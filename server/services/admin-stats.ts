import { and, count, countDistinct, eq, gt, gte, inArray, sql, sum } from 'drizzle-orm'
import { type AdminStats, type DailyStats, STATS_TOP_USERS, type TeamUsage, type UserUsage } from '#shared/admin'
import { rawRows, useDb } from '../db/client'
import { conversations, dialect, latencyDaily, latencyUserDaily, usageDaily, type User, users } from '../db/schema'
import { type Viewer, visibleUserIds } from './access'

const DAY_MS = 86_400_000

const dateOf = (day: number) => new Date(day * DAY_MS).toISOString().slice(0, 10)

/** The median of a histogram of [value, count] pairs sorted by value (the mean of the two middle values when even). */
export function histogramMedian(histogram: Array<[number, number]>): number | null {
  const n = histogram.reduce((total, [, count]) => total + count, 0)
  if (n === 0) return null
  const valueAt = (rank: number) => {
    let seen = 0
    for (const [value, count] of histogram) {
      seen += count
      if (rank < seen) return value
    }
    return histogram.at(-1)![0]
  }
  return Math.round((valueAt(Math.floor((n - 1) / 2)) + valueAt(Math.floor(n / 2))) / 2)
}

/** The medians the stats show: one per day (absent when the day had no answers) and one for the whole range. */
interface LatencyMedians { byDay: Map<number, number>, overall: number | null }

/** Medians from histograms of [value, count] pairs per day (values ascending). */
function mediansOf(byDay: Map<number, Array<[number, number]>>, overall: Array<[number, number]>): LatencyMedians {
  const medians = new Map<number, number>()
  for (const [day, histogram] of byDay) {
    const median = histogramMedian(histogram)
    if (median !== null) medians.set(day, median)
  }
  return { byDay: medians, overall: histogramMedian(overall) }
}

/**
 * Exact medians from the latency rollups: the company-wide one (migration 0006) for an unscoped viewer, the
 * per-owner one (migration 0010) summed over the team's members otherwise — one key range per member instead of
 * every answer of the team. Each day's histogram comes packed into one `ms:answers,…` string by the database: a
 * month is ~12k (day, latency) pairs at 1M messages; as rows, their conversion to objects in the driver was most
 * of the request's CPU, as 30 strings it is a split.
 */
async function rolledUpMedians(firstDay: number, scope: string[] | null): Promise<LatencyMedians> {
  const histograms = scope
    ? sql`select ${latencyUserDaily.day} as d, ${latencyUserDaily.ms} as ms, sum(${latencyUserDaily.answers}) as n from ${latencyUserDaily}
        where ${inArray(latencyUserDaily.userId, scope)} and ${latencyUserDaily.day} >= ${firstDay}
        group by ${latencyUserDaily.day}, ${latencyUserDaily.ms}`
    : sql`select ${latencyDaily.day} as d, ${latencyDaily.ms} as ms, ${latencyDaily.answers} as n from ${latencyDaily}
        where ${latencyDaily.day} >= ${firstDay}`
  const pair = sql`h.ms || ':' || h.n`
  const packed = await rawRows<{ d: number, h: string }>(sql`select h.d as d,
      ${dialect === 'pg' ? sql`string_agg(${pair}, ',')` : sql`group_concat(${pair}, ',')`} as h
    from (${histograms}) h where h.n > 0 group by h.d`)
  const byDay = new Map<number, Array<[number, number]>>()
  const overall = new Map<number, number>()
  for (const { d, h } of packed) {
    const histogram = h.split(',').map((entry) => {
      const [ms, n] = entry.split(':').map(Number) as [number, number]
      overall.set(ms, (overall.get(ms) ?? 0) + n)
      return [ms, n] as [number, number]
    })
    byDay.set(Number(d), histogram.sort((a, b) => a[0] - b[0]))
  }
  return mediansOf(byDay, [...overall].sort((a, b) => a[0] - b[0]))
}

/**
 * Per-day usage over the last `days` UTC days (today included) for the conversations `viewer` may see:
 * messages, active users (owners of a conversation with a message that day), tokens, and the median
 * first-token latency of the answers. Everything comes from rollups kept in step by triggers: counts from
 * `usage_daily`, latencies from `latency_daily` or, for a team, `latency_user_daily`.
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
