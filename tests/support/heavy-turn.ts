import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll } from 'vitest'

// `npm test` runs the API projects (SQLite, PostgreSQL) and the browser tests side by side on a 2-core machine. A few
// files start many processes and make timing claims (a lease expires within a second, a deploy's health check passes
// in time, a rolling restart keeps one process answering its health checks): when two of them ran at once, one in
// each API project, the load made those claims fail (CI: "only 78 kills in 180 s", Caddy "no upstreams available").
// Such a file takes a machine-wide turn: one at a time, whatever project or vitest process runs it. The other
// files keep running alongside. The turn is a directory (mkdir is atomic) naming its holder's pid; a holder that died
// without releasing it (SIGKILL) is noticed and its turn taken over.

const LOCK = join(tmpdir(), 'energyapp-heavy-test.turn')
const OWNER = join(LOCK, 'owner')
const WAIT_MS = 20 * 60_000

function alive(pid: number) {
  try { process.kill(pid, 0); return true }
  catch (error) { return (error as NodeJS.ErrnoException).code === 'EPERM' }
}

function tryTake(label: string) {
  try { mkdirSync(LOCK) }
  catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    let owner = NaN
    try { owner = Number(readFileSync(OWNER, 'utf8').split(' ')[0]) }
    catch {} // the holder is between mkdir and writing its pid, or died there
    const stale = Number.isInteger(owner) && owner > 0
      ? owner !== process.pid && !alive(owner)
      : Date.now() - (statSync(LOCK, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 10_000
    if (stale) rmSync(LOCK, { recursive: true, force: true })
    return false
  }
  writeFileSync(OWNER, `${process.pid} ${label}`)
  return true
}

const release = () => {
  try { if (Number(readFileSync(OWNER, 'utf8').split(' ')[0]) === process.pid) rmSync(LOCK, { recursive: true, force: true }) }
  catch {}
}

/** Call at the top of a test file: its hooks and tests run while no other such file runs on this machine. */
export function heavyTurn(label: string) {
  beforeAll(async () => {
    const since = Date.now()
    while (!tryTake(label)) {
      if (Date.now() - since > WAIT_MS) throw new Error(`waited ${WAIT_MS / 60_000} min for ${LOCK} (held by ${readFileSync(OWNER, 'utf8')})`)
      await new Promise(resolve => setTimeout(resolve, 250))
    }
    process.once('exit', release)
  }, WAIT_MS + 10_000)
  afterAll(release)
}
