// Summarises a V8 .cpuprofile (node --cpu-prof): self time by function and by file/package, and time on the stack
// by package. Run by hand:
//   node bench/cpu-profile.mjs <file.cpuprofile> [--top 40] [--windows <windows.json> --key <name>]
// `--windows`: keep only the samples inside the measured windows written by bench/stream-cpu.mjs --prof
// (monotonic µs, the profile's own clock), so start-up and sign-ups do not count.
// The profiler samples the JS thread: time blocked in a synchronous call (a SQLite fsync) counts as busy here but
// not as CPU in /proc.
import { readFileSync } from 'node:fs'
import { basename } from 'node:path'
import { parseArgs } from 'node:util'

const { values: opts, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '40' }, windows: { type: 'string' }, key: { type: 'string' } } })
const file = positionals[0]
const profile = JSON.parse(readFileSync(file, 'utf8'))
const top = Number(opts.top)
let windows = null
if (opts.windows) {
  const all = JSON.parse(readFileSync(opts.windows, 'utf8'))
  windows = all[opts.key ?? basename(file).replace(/\.cpuprofile$/, '')]
  if (!windows) throw new Error(`no windows for ${opts.key ?? basename(file)} in ${opts.windows}`)
}
const byId = new Map(profile.nodes.map(n => [n.id, n]))
const parent = new Map()
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const inWindow = t => !windows || windows.some(([a, b]) => t >= a && t <= b)

// time of each sample: the delta to the next sample is the time it stands for
const sampleTime = new Map()
let t = profile.startTime
for (let i = 0; i < profile.samples.length; i++) {
  t += profile.timeDeltas[i] ?? 0
  const next = profile.timeDeltas[i + 1] ?? 0
  if (!inWindow(t)) continue
  sampleTime.set(profile.samples[i], (sampleTime.get(profile.samples[i]) ?? 0) + next)
}
const pkg = (url) => {
  if (!url) return '(native)'
  const m = url.match(/node_modules\/((?:@[^/]+\/)?[^/]+)/)
  if (m) return m[1]
  if (url.startsWith('node:')) return url
  return url.split('/').slice(-2).join('/')
}
let busy = 0
let idle = 0
const self = new Map()
const files = new Map()
const onStack = new Map()
const add = (m, k, v) => m.set(k, (m.get(k) ?? 0) + v)
for (const [id, time] of sampleTime) {
  const { callFrame } = byId.get(id)
  if (callFrame.functionName === '(idle)') { idle += time; continue }
  busy += time
  add(self, `${callFrame.functionName || '(anonymous)'} ${pkg(callFrame.url)}:${callFrame.lineNumber + 1}`, time)
  add(files, callFrame.url ? pkg(callFrame.url) : `(native) ${callFrame.functionName}`, time)
  const seen = new Set()
  for (let x = id; x !== undefined; x = parent.get(x)) {
    const frame = byId.get(x).callFrame
    const key = frame.url ? pkg(frame.url) : `(native) ${frame.functionName}`
    if (!seen.has(key)) { seen.add(key); add(onStack, key, time) }
  }
}
const ms = us => (us / 1000).toFixed(0)
console.log(`${file}${windows ? ` (${windows.length} windows)` : ''}: busy ${ms(busy)} ms, idle ${ms(idle)} ms`)
const show = (title, m, n) => {
  console.log(`\n== ${title}`)
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`${(100 * v / busy).toFixed(1).padStart(5)} %  ${ms(v).padStart(6)} ms  ${k}`)
}
show('self time by function', self, top)
show('self time by file or package', files, 30)
show('on the stack, by file or package (each once per sample)', onStack, 45)
