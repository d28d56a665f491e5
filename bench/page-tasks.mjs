// Where a page load's long tasks go, run by hand: `node bench/page-tasks.mjs [chat,conversation,settings,admin,login]`
// (RUNS=n loads per page; EXCHANGES=n questions and answers in the conversation, 2 by default; NUXT_OUTPUT_DIR picks a
// build, used as it is). Starts the built server on a fresh SQLite
// database with a fake Ollama (`--rich` answers), seeds one conversation, and loads each page in Chromium unthrottled
// (as Lighthouse's observed run does; its simulation multiplies these tasks by 4) with a trace that includes V8's
// sampling profiler. Prints FCP, the LCP candidates, and for every main-thread task over 12.5 ms (50 ms at 4×): the
// trace events' self time, and the JS functions' self and inclusive time inside it. For readable function names, run
// it on a build without minification: `BENCH_NO_MINIFY=1 NUXT_BUILD_DIR=/tmp/nuxt-nomin NUXT_OUTPUT_DIR=/tmp/out-nomin
// npx nuxi build`, then `NUXT_OUTPUT_DIR=/tmp/out-nomin node bench/page-tasks.mjs conversation`.
import { chromium } from 'playwright-core'
import { freePort, freshDatabase, login, pageMainThread, seedConversation, startFakeOllama, startServer, waitFor } from './support.mjs'
const pages = (process.argv[2] || 'chat').split(',')
const db = await freshDatabase('sqlite')
const op = await freePort()
const fake = startFakeOllama(op, { FAKE_RICH: '1', FAKE_DELAY_MS: '0' })
await waitFor(`http://127.0.0.1:${op}/api/tags`)
const app = await startServer({ databaseUrl: db.url, env: { OLLAMA_HOST: `http://127.0.0.1:${op}`, CHAT_RATE_LIMIT: '1000/1m' } })
const cookie = await login(app.url, 'admin@example.com', 'admin123')
const conversationId = await seedConversation(app.url, cookie, Number(process.env.EXCHANGES || 2))
const paths = { chat: '/chat', conversation: `/chat/${conversationId}`, settings: '/settings', admin: '/admin', login: '/login' }
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'], headless: true })
for (const name of pages) for (let run = 0; run < Number(process.env.RUNS || 1); run++) {
  const context = await browser.newContext({ serviceWorkers: 'block', viewport: { width: 412, height: 823 }, isMobile: true, hasTouch: true })
  if (name !== 'login') await context.addCookies(cookie.split('; ').map((p) => { const i = p.indexOf('='); return { name: p.slice(0, i), value: p.slice(i + 1), url: app.url } }))
  const page = await context.newPage()
  await browser.startTracing(page, { categories: ['devtools.timeline', 'v8', 'blink.user_timing', 'loading', 'disabled-by-default-devtools.timeline', 'disabled-by-default-v8.cpu_profiler'] })
  await page.goto(app.url + paths[name])
  await page.waitForTimeout(2500)
  const trace = JSON.parse((await browser.stopTracing()).toString())
  const events = trace.traceEvents ?? trace
  analyse(name, events)
  await context.close()
}
await browser.close(); await app.stop(); fake.kill?.(); await db.drop(); process.exit(0)

function analyse(name, events) {
  const { pid, tid, navigation } = pageMainThread(events, app.url)
  const nav = navigation ?? events.filter(e => e.name === 'navigationStart' && e.pid === pid && e.args?.data?.isLoadingMainFrame).at(-1)
  const t0 = nav?.ts ?? 0
  if (!nav) console.log('(no navigationStart found: times are absolute)')
  const fcp = events.find(e => e.pid === pid && e.name === 'firstContentfulPaint')
  const lcps = events.filter(e => e.pid === pid && e.name === 'largestContentfulPaint::Candidate')
  console.log(`\n##### ${name}: FCP ${fcp ? ((fcp.ts - t0) / 1000).toFixed(0) : '?'} ms, LCP candidates ${lcps.map(e => ((e.ts - t0) / 1000).toFixed(0) + ' ' + e.args?.data?.nodeName).join(' | ')}`)
  // cpu profile samples
  // the main thread's profile only: a worker of the page (the code colouring's) has its own, with its own clock
  const profile = events.find(x => x.name === 'Profile' && x.pid === pid && x.tid === tid)
  const nodes = new Map(); const samples = []
  for (const e of events) {
    if (e.name !== 'ProfileChunk' || e.pid !== pid || (profile && e.id !== profile.id)) continue
    const d = e.args?.data?.cpuProfile; if (!d) continue
    for (const n of d.nodes ?? []) nodes.set(n.id, n)
    let ts = samples.length ? samples.at(-1).ts : null
    const deltas = e.args.data.timeDeltas ?? []
    ;(d.samples ?? []).forEach((id, i) => { ts = (ts ?? (profile?.args?.data?.startTime ?? 0)) + deltas[i]; samples.push({ id, ts }) })
  }
  const fn = id => { const n = nodes.get(id); const cf = n?.callFrame; return cf ? `${cf.functionName || '(anon)'} ${String(cf.url || '').replace(/^.*\//, '')}:${cf.lineNumber + 1}` : '?' }
  const chain = (id) => { const out = []; let n = nodes.get(id); while (n) { out.push(n); n = n.parent ? nodes.get(n.parent) : null } return out }
  const tasks = events.filter(e => e.pid === pid && e.tid === tid && e.name === 'RunTask' && e.dur > 12500).sort((a, b) => a.ts - b.ts)
  // what these tasks would block at Lighthouse's 4× (all of the load, first paint or not: an upper bound of its TBT)
  const blocking = tasks.reduce((sum, task) => sum + Math.max(0, task.dur / 250 - 50), 0)
  console.log(`blocking at 4×: ${blocking.toFixed(0)} ms (Σ max(0, 4 × task − 50) over the ${tasks.length} tasks below)`)
  for (const task of tasks) {
    const inTask = samples.filter(s => s.ts >= task.ts && s.ts <= task.ts + task.dur)
    const self = {}; const incl = {}
    for (const s of inTask) {
      self[fn(s.id)] = (self[fn(s.id)] ?? 0) + 1
      const seen = new Set()
      for (const n of chain(s.id)) { const f = fn(n.id); if (seen.has(f)) continue; seen.add(f); incl[f] = (incl[f] ?? 0) + 1 }
    }
    const per = inTask.length ? task.dur / 1000 / inTask.length : 0
    console.log(`\n task at ${((task.ts - t0) / 1000).toFixed(0)} ms, ${(task.dur / 1000).toFixed(1)} ms (x4 = ${(task.dur / 250).toFixed(0)}), ${inTask.length} samples`)
    const inside = events.filter(e => e.pid === pid && e.tid === tid && e.ph === 'X' && e.dur && e !== task && e.ts >= task.ts && e.ts + e.dur <= task.ts + task.dur).sort((a, b) => a.ts - b.ts || b.dur - a.dur)
    const stack = []; const selfEv = new Map()
    for (const e of [task, ...inside]) {
      while (stack.length && !(e.ts >= stack.at(-1).ts && e.ts + e.dur <= stack.at(-1).ts + stack.at(-1).dur)) stack.pop()
      if (stack.length) selfEv.set(stack.at(-1), (selfEv.get(stack.at(-1)) ?? stack.at(-1).dur) - e.dur)
      selfEv.set(e, selfEv.get(e) ?? e.dur); stack.push(e)
    }
    const byEv = {}; for (const [e, v] of selfEv) byEv[e.name] = (byEv[e.name] ?? 0) + v / 1000
    console.log('   events: ' + Object.entries(byEv).sort((a, b) => b[1] - a[1]).slice(0, 7).map(([n, v]) => `${n} ${v.toFixed(1)}`).join(' ; '))
    console.log('   self: ' + Object.entries(self).sort((a, b) => b[1] - a[1]).slice(0, 8).map(([f, c]) => `${f} ${(c * per).toFixed(1)}`).join(' ; '))
    console.log('   incl: ' + Object.entries(incl).filter(([f]) => !/^\(root\)|^\(program\)/.test(f)).sort((a, b) => b[1] - a[1]).slice(0, 22).map(([f, c]) => `${f} ${(c * per).toFixed(1)}`).join(' ; '))
    // the chunks whose code runs in the task (inclusive, each counted once per sample): with the build's chunk names
    // mapped to components (`grep -l` in .output/public/_nuxt), which parts of the page the task mounts
    const files = {}
    for (const s of inTask) for (const f of new Set(chain(s.id).map(n => String(n.callFrame?.url || '').replace(/^.*\//, '')).filter(Boolean))) files[f] = (files[f] ?? 0) + 1
    console.log('   files: ' + Object.entries(files).sort((a, b) => b[1] - a[1]).slice(0, 12).map(([f, c]) => `${f} ${(c * per).toFixed(1)}`).join(' ; '))
    if (process.env.TREE) printTree(inTask.map(s => chain(s.id).reverse().map(n => fn(n.id))), per, Number(process.env.TREE))
  }
}

// TREE=<ms>: the task's top-down call tree, each node with its inclusive time, down to nodes of at least <ms>
function printTree(stacks, per, minMs) {
  const root = { children: new Map(), count: 0 }
  for (const stack of stacks) {
    let node = root
    for (const name of stack) {
      if (!node.children.has(name)) node.children.set(name, { children: new Map(), count: 0 })
      node = node.children.get(name)
      node.count++
    }
  }
  const walk = (node, depth) => {
    for (const [name, child] of [...node.children].sort((a, b) => b[1].count - a[1].count)) {
      if (child.count * per < minMs) continue
      // a chain of single children prints as one line
      let label = name; let next = child
      while (next.children.size === 1 && [...next.children.values()][0].count === next.count) { const [[n, c]] = next.children; label += ' > ' + n; next = c }
      console.log(`   ${'  '.repeat(depth)}${(child.count * per).toFixed(1)} ${label.length > 220 ? '…' + label.slice(-220) : label}`)
      walk(next, depth + 1)
    }
  }
  walk(root, 0)
}
