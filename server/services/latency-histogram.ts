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
  forEachPair(packed, (ms, n) => into.set(ms, (into.get(ms) ?? 0) + n))
}

const sortedPairs = (histogram: Map<number, number>) => [...histogram].sort((a, b) => a[0] - b[0])

/** Above this many cells (latency span × (days + 1)), the dense counts give way to maps. */
export const DENSE_CELLS = 1 << 20

/**
 * Medians from packed histograms, each `[day, packed]`; a day may come in several parts (one per team member).
 * A team's month is ~110k pairs at 1M messages, ~400 distinct latencies a day: counted in one typed array of
 * (day, latency) cells when the latencies span few enough values (a Map per day cost ~12 ms of CPU here), in a Map
 * per day otherwise (an outlier of minutes would make the array too large).
 */
export function packedMedians(rows: Iterable<[number, string]>, denseCells = DENSE_CELLS): LatencyMedians {
  const parts = [...rows].filter(([, packed]) => packed)
  let min = Infinity
  let max = -Infinity
  const days = new Map<number, number>()
  for (const [day, packed] of parts) {
    if (!days.has(day)) days.set(day, days.size)
    forEachPair(packed, (ms) => {
      if (ms < min) min = ms
      if (ms > max) max = ms
    })
  }
  if (!days.size) return { byDay: new Map(), overall: null }
  const span = max - min + 1
  if (span * (days.size + 1) > denseCells) return mapMedians(parts)
  // row d of `counts` is day d's histogram, the last row the whole range's
  const counts = new Float64Array(span * (days.size + 1))
  const overall = span * days.size
  for (const [day, packed] of parts) {
    const row = days.get(day)! * span - min
    forEachPair(packed, (ms, n) => {
      counts[row + ms] += n
      counts[overall + ms - min] += n
    })
  }
  const byDay = new Map<number, number>()
  for (const [day, d] of days) {
    const median = denseMedian(counts, d * span, span, min)
    if (median !== null) byDay.set(day, median)
  }
  return { byDay, overall: denseMedian(counts, overall, span, min) }
}

/** Calls `pair(ms, answers)` for each pair of a packed histogram with answers > 0, without allocating. */
function forEachPair(packed: string, pair: (ms: number, answers: number) => void) {
  let value = 0
  let count = 0
  let inCount = false
  for (let i = 0; i <= packed.length; i++) {
    const c = i < packed.length ? packed.charCodeAt(i) : 44
    if (c === 58) inCount = true // ':'
    else if (c === 44) { // ','
      if (inCount && count > 0) pair(value, count)
      value = 0
      count = 0
      inCount = false
    }
    else if (inCount) count = count * 10 + c - 48
    else value = value * 10 + c - 48
  }
}

/** The median of `span` counts from `start` (cell i is latency `min + i`), as histogramMedian. */
function denseMedian(counts: Float64Array, start: number, span: number, min: number): number | null {
  let n = 0
  for (let i = start; i < start + span; i++) n += counts[i]!
  if (n === 0) return null
  const low = Math.floor((n - 1) / 2)
  const high = Math.floor(n / 2)
  let seen = 0
  let lowValue = -1
  for (let i = start; i < start + span; i++) {
    seen += counts[i]!
    if (lowValue < 0 && low < seen) lowValue = min + i - start
    if (high < seen) return Math.round((lowValue + min + i - start) / 2)
  }
  return null
}

/** packedMedians with a Map per day: any span of latencies. */
function mapMedians(parts: Array<[number, string]>): LatencyMedians {
  const byDay = new Map<number, Map<number, number>>()
  for (const [day, packed] of parts) {
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
