/** The median as the stats define it: the mean of the two middle values when even, rounded; null for none. */
export function median(values: number[]): number | null {
  if (!values.length) return null
  const sorted = [...values].sort((a, b) => a - b)
  return Math.round((sorted[Math.floor((sorted.length - 1) / 2)]! + sorted[Math.floor(sorted.length / 2)]!) / 2)
}

/** `values` as the latency rollups pack them: `ms:answers` pairs, ascending ms ('' for none). */
export function packHistogram(values: number[]) {
  const counts = new Map<number, number>()
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1)
  return [...counts].sort((a, b) => a[0] - b[0]).map(([ms, n]) => `${ms}:${n}`).join(',')
}
