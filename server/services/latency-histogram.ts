/** Exact medians from latency histograms: `[value, count]` pairs, or packed as `ms:answers,…` strings. */

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
export interface LatencyMedians { byDay: Map<number, number>, overall: number | null }

/**
 * Adds a packed histogram (`ms:answers,…`, as the latency rollups are read) into `into`, by hand: a team's month is
 * ~110k pairs at 1M messages, and split/map would allocate three strings and an array per pair.
 */
export function addPackedHistogram(into: Map<number, number>, packed: string) {
  let value = 0
  let count = 0
  let inCount = false
  for (let i = 0; i <= packed.length; i++) {
    const c = i < packed.length ? packed.charCodeAt(i) : 44
    if (c === 58) inCount = true // ':'
    else if (c === 44) { // ','
      if (inCount && count > 0) into.set(value, (into.get(value) ?? 0) + count)
      value = 0
      count = 0
      inCount = false
    }
    else if (inCount) count = count * 10 + c - 48
    else value = value * 10 + c - 48
  }
}

const sortedPairs = (histogram: Map<number, number>) => [...histogram].sort((a, b) => a[0] - b[0])

/** Medians from packed histograms, each `[day, packed]`; a day may come in several parts (one per team member). */
export function packedMedians(rows: Iterable<[number, string]>): LatencyMedians {
  const byDay = new Map<number, Map<number, number>>()
  for (const [day, packed] of rows) {
    if (!packed) continue
    let histogram = byDay.get(day)
    if (!histogram) byDay.set(day, histogram = new Map())
    addPackedHistogram(histogram, packed)
  }
  const medians = new Map<number, number>()
  const overall = new Map<number, number>()
  for (const [day, histogram] of byDay) {
    const median = histogramMedian(sortedPairs(histogram))
    if (median !== null) medians.set(day, median)
    for (const [ms, n] of histogram) overall.set(ms, (overall.get(ms) ?? 0) + n)
  }
  return { byDay: medians, overall: histogramMedian(sortedPairs(overall)) }
}
