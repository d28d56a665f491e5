import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, inject, it } from 'vitest'
import { createTestDatabase, freePort, OUTPUT, type TestDatabase } from '../support/server'

const reachable = (host: string, port: number) => new Promise<boolean>((resolve) => {
  const socket = connect({ host, port })
  socket.once('connect', () => { socket.destroy(); resolve(true) })
  socket.once('error', () => resolve(false))
})

// Issue #15 item 8: `NODE_ENV=production node .output/server/index.mjs` listened on every interface.
describe('HOST defaults to 127.0.0.1 in production', () => {
  const stops: Array<() => Promise<void>> = []
  afterAll(async () => {
    for (const stop of stops) await stop()
  })

  async function start(env: Record<string, string>) {
    // a database per server: two app processes on one database without REDIS_URL refuse to start (#14)
    const db: TestDatabase = await createTestDatabase(inject('dbKind'))
    const port = await freePort()
    const dataDir = mkdtempSync(join(tmpdir(), 'energyapp-prod-'))
    const child = spawn(process.execPath, [join(OUTPUT, 'server', 'index.mjs')], {
      env: { PATH: process.env.PATH, NODE_ENV: 'production', LOG_LEVEL: 'silent', SESSION_SECRET: 'prod-secret-prod-secret-prod-secret-0123456789', PUBLIC_ORIGIN: 'https://chat.test.local', DATABASE_URL: db.url, DATA_DIR: dataDir, OLLAMA_HOST: 'http://127.0.0.1:9', PORT: String(port), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    const exited = new Promise(resolve => child.once('exit', resolve))
    stops.push(async () => {
      if (child.exitCode === null) child.kill('SIGKILL')
      await exited
      rmSync(dataDir, { recursive: true, force: true })
      await db.drop()
    })
    let log = ''
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no "Listening on" line:\n${log}`)), 60_000)
      const read = (d: Buffer) => {
        log += d
        if (/Listening on/.test(log)) { clearTimeout(timer); resolve() }
      }
      child.stdout!.on('data', read)
      child.stderr!.on('data', read)
      child.once('exit', code => reject(new Error(`exited ${code}:\n${log}`)))
    })
    return { port, log }
  }

  it('no HOST: listens on 127.0.0.1 only (not on ::1 or any other interface)', async () => {
    const { port, log } = await start({})
    expect(log).toMatch(/Listening on http:\/\/127\.0\.0\.1:/)
    expect(await reachable('127.0.0.1', port)).toBe(true)
    expect(await reachable('::1', port)).toBe(false)
  })

  it('an explicit HOST still wins', async () => {
    const { port, log } = await start({ HOST: '::1' })
    expect(log).toMatch(/Listening on http:\/\/\[::1\]:/)
    expect(await reachable('::1', port)).toBe(true)
  })
})
