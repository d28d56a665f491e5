import { type ChildProcess, spawn } from 'node:child_process'
import { createConnection } from 'node:net'
import { freePort, redisServerPath } from './server'

export interface RunningRedis { url: string, child: ChildProcess, stop: () => Promise<void> }

// every redis-server still running when the test worker exits is killed; one listener for all of them (a worker runs
// many files one after another, and one listener per server piled up past Node's leak warning)
const running = new Set<ChildProcess>()
process.once('exit', () => { for (const child of running) child.kill('SIGKILL') })

/** A throwaway redis-server on a loopback port (no persistence); resolves once it accepts connections. */
export async function startRedis(): Promise<RunningRedis> {
  const binary = redisServerPath()
  if (!binary) throw new Error('redis-server is not installed (set REDIS_SERVER)')
  const port = await freePort()
  const child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' })
  running.add(child)
  const exited = new Promise<void>(resolve => child.once('exit', () => { running.delete(child); resolve() }))
  for (let i = 0; ; i++) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = createConnection(port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
      socket.once('error', () => resolve(false))
    })
    if (up) break
    if (i > 100) throw new Error('redis-server did not start')
    await new Promise(resolve => setTimeout(resolve, 50))
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    child,
    stop: async () => { if (child.exitCode === null) child.kill('SIGKILL'); await exited },
  }
}
