import { createStream, type RotatingFileStream } from 'rotating-file-stream'
import { useConfig } from './config'

type Channel = 'app' | 'auth' | 'audit'
type Level = 'debug' | 'info' | 'warn' | 'error'

const RANK: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 }

let settings: { rank: number, dir?: string } | undefined

/**
 * LOG_LEVEL (debug | info (default) | warn | error | silent: lines below it are dropped) and LOG_DIR, from the
 * configuration. Until the configuration is valid, `info` to stdout: the start-up reports a bad value and stops.
 */
function logSettings() {
  if (settings) return settings
  try {
    const { logLevel, logDir } = useConfig()
    return (settings = { rank: RANK[logLevel], dir: logDir })
  }
  catch { return { rank: RANK.info } }
}

// Optional files next to stdout/journald: LOG_DIR/{app,auth,audit}.log, rotated at 10 MB, 5 kept.
const files = new Map<Channel, RotatingFileStream>()

function fileFor(channel: Channel) {
  const dir = logSettings().dir
  if (!dir) return undefined
  let stream = files.get(channel)
  if (!stream) {
    stream = createStream(`${channel}.log`, { path: dir, size: '10M', maxFiles: 5 })
    stream.on('error', () => {})
    files.set(channel, stream)
  }
  return stream
}

// One JSON object per line; message bodies, passwords, tokens and secrets never reach here.
function write(channel: Channel, level: Level, msg: string, fields: Record<string, unknown> = {}) {
  if (RANK[level] < logSettings().rank) return
  const line = JSON.stringify({ time: new Date().toISOString(), level, channel, msg, ...fields })
  if (level === 'error') console.error(line)
  else console.log(line)
  fileFor(channel)?.write(`${line}\n`)
}

export const log = {
  debug: (msg: string, fields?: Record<string, unknown>) => write('app', 'debug', msg, fields),
  info: (msg: string, fields?: Record<string, unknown>) => write('app', 'info', msg, fields),
  warn: (msg: string, fields?: Record<string, unknown>) => write('app', 'warn', msg, fields),
  error: (msg: string, fields?: Record<string, unknown>) => write('app', 'error', msg, fields),
}

/** Audit rows go to the `auth` channel for auth.* actions (fail2ban reads it) and to `audit` otherwise. */
export function logAudit(row: { action: string, actorId: string | null, targetType: string | null, targetId: string | null, ip: string | null, meta: unknown }) {
  write(row.action.startsWith('auth.') ? 'auth' : 'audit', 'info', row.action, {
    actorId: row.actorId, targetType: row.targetType, targetId: row.targetId, ip: row.ip, meta: row.meta,
  })
}

/** Rate-limited requests are logged with the address so fail2ban can act on abuse. */
export const logRateLimited = (ip: string, path: string) => write('auth', 'warn', 'rate_limited', { ip, path })
