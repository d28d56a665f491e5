import { describe, expect, it } from 'vitest'
import { addPackedHistogram, histogramMedian, packedMedians } from '../../server/services/latency-histogram'
import { median, packHistogram } from '../support/latency'

/** `values` packed with the pairs in descending order: the parser takes any order. */
const pack = (values: number[]) => packHistogram(values).split(',').reverse().join(',')

describe('packed latency histograms', () => {
  it('a packed string adds its pairs into the histogram, multi-digit values and counts included; zero counts are skipped', () => {
    const into = new Map([[120, 1]])
    addPackedHistogram(into, '5:1,120:12,1034:3,77:0')
    expect([...into].sort((a, b) => a[0] - b[0])).toEqual([[5, 1], [120, 13], [1034, 3]])
    addPackedHistogram(into, '')
    expect(into.size).toBe(3)
  })

  // dense counts (latencies spanning few values) and maps (the fallback, forced with denseCells = 0) must agree
  it.each([['dense counts', undefined], ['maps', 0]])('per-day and overall medians of several parts per day equal those of the values themselves (%s)', (_, denseCells) => {
    // a pseudo-random team: 5 members × 3 days, latencies 1..999, one day with an even count
    let seed = 7
    const next = () => (seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648) / 2_147_483_648
    const parts: Array<[number, string]> = []
    const byDay = new Map<number, number[]>()
    for (let day = 100; day < 103; day++) {
      for (let member = 0; member < 5; member++) {
        const values = Array.from({ length: 1 + Math.floor(next() * 40) }, () => 1 + Math.floor(next() * 999))
        parts.push([day, pack(values)])
        byDay.set(day, [...byDay.get(day) ?? [], ...values])
      }
    }
    parts.push([103, ''], [104, pack([10, 20])])
    byDay.set(104, [10, 20])
    const medians = packedMedians(parts, denseCells)
    expect(Object.fromEntries(medians.byDay)).toEqual(Object.fromEntries([...byDay].map(([day, values]) => [day, median(values)])))
    expect(medians.overall).toBe(median([...byDay.values()].flat()))
  })

  it('an outlier of minutes (a span too wide for dense counts) still gives exact medians', () => {
    const medians = packedMedians([[1, '300:2,400:1'], [1, '600000:1'], [2, '0:1,900:1']])
    expect(Object.fromEntries(medians.byDay)).toEqual({ 1: 350, 2: 450 })
    expect(medians.overall).toBe(350) // 0, 300, 300, 400, 900, 600000
  })

  it('no answers: no medians', () => {
    expect(packedMedians([[1, '']])).toEqual({ byDay: new Map(), overall: null })
    expect(histogramMedian([])).toBeNull()
  })
})
