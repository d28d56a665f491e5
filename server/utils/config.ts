import { BUILT_IN_ROLES, type BuiltInRole, isBuiltInRole } from '#shared/permissions'
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, resolve } from 'node:path'
import * as v from 'valibot'
import { parseHosts } from '../services/model/hosts'
import { maxChars } from '#shared/schemas'

/** A rate as written in the environment: `10/15m` → 10 events per 15 minutes. */
export interface Rate { max: number, windowMs: number }

const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

export function parseRate(text: string): Rate | undefined {
  const m = /^(\d+)\/(\d*)([smhd])$/.exec(text.trim())
  if (!m || Number(m[1]) < 1) return undefined
  return { max: Number(m[1]), windowMs: Number(m[2] || 1) * units[m[3]!]! }
}

const rate = (fallback: string) => v.pipe(
  v.optional(v.string(), fallback),
  v.check(s => parseRate(s) !== undefined, 'must look like 10/15m (count/window with s, m, h or d)'),
  v.transform(s => parseRate(s)!),
)
const bool = (fallback: boolean) => v.pipe(
  v.optional(v.picklist(['true', 'false', '1', '0', 'yes', 'no']), fallback ? 'true' : 'false'),
  v.transform(s => ['true', '1', 'yes'].includes(s)),
)
const list = v.pipe(
  v.optional(v.string(), ''),
  v.transform(s => s.split(',').map(x => x.trim().toLowerCase()).filter(Boolean)),
)
const url = (fallback: string) => v.pipe(v.optional(v.string(), fallback), v.url('must be a URL like http://host:port'))
const int = (fallback: number, min: number, max: number) => v.pipe(
  v.optional(v.string(), String(fallback)),
  v.regex(/^\d+$/, 'must be a whole number'),
  v.transform(Number),
  v.minValue(min, `must be at least ${min}`),
  v.maxValue(max, `must be at most ${max}`),
)

const EnvSchema = v.object({
  NODE_ENV: v.optional(v.string(), 'development'),
  DATABASE_URL: v.pipe(
    v.optional(v.string(), 'file:./data/energyapp.db'),
    v.regex(/^(file:|libsql:|postgres(ql)?:\/\/)/, 'must start with file:, libsql: or postgres://'),
  ),
  OLLAMA_HOST: url('http://127.0.0.1:11434'),
  // the pool of model servers (issue #14): empty = OLLAMA_HOST; `openai+URL` is an OpenAI-compatible server
  OLLAMA_HOSTS: v.pipe(v.optional(v.string(), ''), v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    try { parseHosts(dataset.value, 'http://127.0.0.1:11434') }
    catch (error) { addIssue({ message: (error as Error).message }) }
  })),
  OPENAI_API_KEY: v.optional(v.string()),
  // how often a healthy model server's list is refreshed (a down one is retried sooner, with back-off)
  MODEL_CHECK_MS: int(10_000, 100, 600_000),
  // on SIGTERM, keep serving this long while /api/health answers 503 draining (0: stop at once; README "Scaling")
  SHUTDOWN_DRAIN_MS: int(0, 0, 60_000),
  // how long a signed-in cookie's session and user are remembered in memory (0: not at all; services/auth-cache.ts)
  AUTH_CACHE_MS: int(5_000, 0, 600_000),
  OLLAMA_MODEL: v.pipe(v.optional(v.string(), 'qwen2.5:3b-instruct'), v.minLength(1, 'must not be empty')),
  SESSION_SECRET: v.optional(v.pipe(v.string(), v.minLength(32, 'must be at least 32 characters'))),
  PUBLIC_ORIGIN: v.pipe(url('http://localhost:3000'), v.transform(s => new URL(s).origin)),
  DEMO_ACCOUNTS: v.optional(v.picklist(['true', 'false', '1', '0', 'yes', 'no'])),
  REGISTRATION_DOMAINS: list,
  PASSWORD_CHANGE_DOMAINS: list,
  TOTP_SELF_SERVICE_DOMAINS: list,
  MAX_CONCURRENT_GENERATIONS: int(1, 1, 256),
  REQUIRE_2FA_ROLES: v.pipe(list, v.check(
    roles => roles.every(isBuiltInRole),
    `must list roles among ${BUILT_IN_ROLES.join(', ')}`,
  )),
  REDIS_URL: v.optional(v.pipe(v.string(), v.regex(/^rediss?:\/\//, 'must start with redis://'))),
  LOGIN_RATE_LIMIT: rate('10/15m'),
  LOGIN_IP_RATE_LIMIT: rate('30/15m'),
  CHAT_RATE_LIMIT: rate('30/1m'),
  CONVERSATION_RATE_LIMIT: rate('60/1m'),
  SMTP_URL: v.optional(v.pipe(v.string(), v.url('must be a URL like smtp://user:pass@host:587'), v.regex(/^smtps?:\/\//, 'must start with smtp:// or smtps://'))),
  MAIL_FROM: v.optional(v.pipe(v.string(), v.trim(), maxChars(200), v.regex(/^[^\r\n]*@[^\r\n]*$/, 'must be an address like "EnergyApp <no-reply@example.com>"'))),
  FORGOT_PASSWORD_RATE_LIMIT: rate('5/1h'),
  CHAT_HISTORY_MAX: int(50, 1, 1000),
  MESSAGE_RATE_LIMIT: rate('60/1m'),
  // live events: keep-alive comment and sign-in re-check intervals (lowered only by tests)
  EVENTS_PING_MS: int(25_000, 100, 600_000),
  EVENTS_RECHECK_MS: int(10_000, 100, 30_000),
  DATA_DIR: v.optional(v.string(), './data'),
  SESSION_MAX_DAYS: int(90, 1, 3650),
  LOG_LEVEL: v.optional(v.picklist(['debug', 'info', 'warn', 'error', 'silent'], 'must be one of debug, info, warn, error, silent'), 'info'),
  // also write app.log, auth.log and audit.log into this folder (utils/log.ts)
  LOG_DIR: v.optional(v.string()),
  // PostgreSQL connections per process (SQLite: one file, no pool)
  DATABASE_POOL_SIZE: int(10, 1, 1000),
  // PostgreSQL: how long a query waits for a connection before the request answers 503 (db/pg-socket.ts)
  DATABASE_CONNECT_TIMEOUT_MS: int(5_000, 100, 600_000),
  // where drizzle/<dialect> is looked for first (db/migrate.ts; default: next to the server, then ./drizzle)
  MIGRATIONS_DIR: v.optional(v.string()),
  // this process knowingly shares its database without Redis (a test's second server, a maintenance process)
  ALLOW_SHARED_DATABASE: bool(false),
  // false: this process only enqueues background jobs, another process runs them (plugins/04.jobs.ts)
  JOBS_WORKER: bool(true),
  // background jobs (services/jobs.ts): first retry delay (×3 each time), claim lease, poll interval, jobs at once
  JOB_BACKOFF_MS: int(5_000, 10, 3_600_000),
  JOB_LEASE_MS: int(60_000, 500, 3_600_000),
  JOB_POLL_MS: int(1_000, 10, 600_000),
  JOB_CONCURRENCY: int(8, 1, 256),
  // PostgreSQL connections of the job worker, apart from DATABASE_POOL_SIZE's (requests never wait behind jobs)
  JOB_DATABASE_POOL_SIZE: int(4, 1, 1000),
  // a model slot's, an "answer running" mark's and a server load share's lease in Redis (services/coordination.ts)
  GENERATION_LEASE_MS: int(15_000, 300, 600_000),
  // web chat stream (services/chat.ts): keep-alive ping, a stalled reader's timeout, the answer's re-check interval
  CHAT_PING_MS: int(15_000, 50, 600_000),
  CHAT_DRAIN_TIMEOUT_MS: int(30_000, 100, 600_000),
  CHAT_WATCH_MS: int(1_000, 50, 60_000),
  // a streaming answer's text is saved this often (orchestrator/persist.ts)
  CHAT_CHECKPOINT_MS: int(3_000, 100, 600_000),
  // SMS channel (Twilio): on when the account, token and number are all set
  TWILIO_ACCOUNT_SID: v.optional(v.string()),
  TWILIO_AUTH_TOKEN: v.optional(v.string()),
  TWILIO_PHONE_NUMBER: v.optional(v.string()),
  TWILIO_WHATSAPP_NUMBER: v.optional(v.string()),
  TWILIO_API_BASE: url('https://api.twilio.com'),
  SMS_MODEL_ATTEMPTS: int(4, 1, 100),
  SMS_SEND_ATTEMPTS: int(6, 1, 100),
})

export type AppConfig = ReturnType<typeof buildConfig>

function buildConfig(env: v.InferOutput<typeof EnvSchema>) {
  const production = env.NODE_ENV === 'production'
  const demo = env.DEMO_ACCOUNTS === undefined ? !production : ['true', '1', 'yes'].includes(env.DEMO_ACCOUNTS)
  return {
    production,
    databaseUrl: env.DATABASE_URL,
    ollamaHost: env.OLLAMA_HOST.replace(/\/+$/, ''),
    ollamaModel: env.OLLAMA_MODEL,
    /** Every model server of the pool (at least one: OLLAMA_HOST when OLLAMA_HOSTS is empty). */
    modelHosts: parseHosts(env.OLLAMA_HOSTS, env.OLLAMA_HOST),
    openaiApiKey: env.OPENAI_API_KEY || undefined,
    modelCheckMs: env.MODEL_CHECK_MS,
    shutdownDrainMs: env.SHUTDOWN_DRAIN_MS,
    authCacheMs: env.AUTH_CACHE_MS,
    sessionSecret: env.SESSION_SECRET ?? devSecret(env.DATA_DIR),
    publicOrigin: env.PUBLIC_ORIGIN,
    secureCookies: env.PUBLIC_ORIGIN.startsWith('https:'),
    demoAccounts: demo,
    registrationDomains: env.REGISTRATION_DOMAINS,
    passwordChangeDomains: env.PASSWORD_CHANGE_DOMAINS,
    totpSelfServiceDomains: env.TOTP_SELF_SERVICE_DOMAINS,
    maxConcurrentGenerations: env.MAX_CONCURRENT_GENERATIONS,
    require2faRoles: env.REQUIRE_2FA_ROLES as BuiltInRole[],
    redisUrl: env.REDIS_URL,
    loginRateLimit: env.LOGIN_RATE_LIMIT,
    loginIpRateLimit: env.LOGIN_IP_RATE_LIMIT,
    chatRateLimit: env.CHAT_RATE_LIMIT,
    conversationRateLimit: env.CONVERSATION_RATE_LIMIT,
    smtpUrl: env.SMTP_URL,
    mailFrom: env.MAIL_FROM ?? `EnergyApp <no-reply@${new URL(env.PUBLIC_ORIGIN).hostname}>`,
    forgotPasswordRateLimit: env.FORGOT_PASSWORD_RATE_LIMIT,
    chatHistoryMax: env.CHAT_HISTORY_MAX,
    messageRateLimit: env.MESSAGE_RATE_LIMIT,
    eventsPingMs: env.EVENTS_PING_MS,
    eventsRecheckMs: env.EVENTS_RECHECK_MS,
    dataDir: resolve(env.DATA_DIR),
    /** A session slides for 30 days of use but never outlives this many days from sign-in. */
    sessionMaxDays: env.SESSION_MAX_DAYS,
    logLevel: env.LOG_LEVEL,
    logDir: env.LOG_DIR,
    databasePoolSize: env.DATABASE_POOL_SIZE,
    databaseConnectTimeoutMs: env.DATABASE_CONNECT_TIMEOUT_MS,
    migrationsDir: env.MIGRATIONS_DIR,
    allowSharedDatabase: env.ALLOW_SHARED_DATABASE,
    jobsWorker: env.JOBS_WORKER,
    jobs: { backoffMs: env.JOB_BACKOFF_MS, leaseMs: env.JOB_LEASE_MS, pollMs: env.JOB_POLL_MS, concurrency: env.JOB_CONCURRENCY, databasePoolSize: env.JOB_DATABASE_POOL_SIZE },
    generationLeaseMs: env.GENERATION_LEASE_MS,
    chat: { pingMs: env.CHAT_PING_MS, drainTimeoutMs: env.CHAT_DRAIN_TIMEOUT_MS, watchMs: env.CHAT_WATCH_MS, checkpointMs: env.CHAT_CHECKPOINT_MS },
    twilio: twilioSettings(env),
    sms: { modelAttempts: env.SMS_MODEL_ATTEMPTS, sendAttempts: env.SMS_SEND_ATTEMPTS },
  }
}

export interface TwilioConfig { accountSid: string, authToken: string, phoneNumber: string, whatsappNumber: string, apiBase: string }

/** The SMS channel's account, or null (channel off) unless the account, token and number are all set. */
function twilioSettings(env: v.InferOutput<typeof EnvSchema>): TwilioConfig | null {
  const { TWILIO_ACCOUNT_SID: accountSid, TWILIO_AUTH_TOKEN: authToken, TWILIO_PHONE_NUMBER: phoneNumber } = env
  if (!accountSid || !authToken || !phoneNumber) return null
  return {
    accountSid,
    authToken,
    phoneNumber,
    whatsappNumber: env.TWILIO_WHATSAPP_NUMBER || phoneNumber,
    apiBase: env.TWILIO_API_BASE.replace(/\/+$/, ''),
  }
}

/** Outside production a secret is generated once and kept in the data folder, so sessions survive restarts. */
function devSecret(dataDir: string) {
  const file = resolve(dataDir, '.session-secret')
  if (existsSync(file)) return readFileSync(file, 'utf8').trim()
  const secret = randomBytes(32).toString('base64url')
  mkdirSync(dirname(file), { recursive: true })
  writeFileSync(file, secret, { mode: 0o600 })
  return secret
}

const SECRET_VARIABLES = ['SESSION_SECRET', 'SMTP_URL', 'OPENAI_API_KEY', 'OLLAMA_HOSTS', 'TWILIO_AUTH_TOKEN']

export class ConfigError extends Error {}

/** Reads and validates the environment; throws a ConfigError whose message names the variable. */
export function loadConfig(env: Record<string, string | undefined> = process.env): AppConfig {
  const clean = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
  const result = v.safeParse(EnvSchema, clean)
  if (!result.success) {
    const issue = result.issues[0]
    const name = v.getDotPath(issue) ?? 'environment'
    // never echo a secret: the session secret, the model key, or a URL that may carry a password
    const got = clean[name] === undefined ? '' : ` (got "${SECRET_VARIABLES.includes(name) ? '…' : clean[name]}")`
    throw new ConfigError(`invalid configuration: ${name} ${issue.message}${got}`)
  }
  if (result.output.NODE_ENV === 'production' && !result.output.SESSION_SECRET)
    throw new ConfigError('invalid configuration: SESSION_SECRET is required in production (at least 32 characters)')
  return buildConfig(result.output)
}

let cached: AppConfig | undefined

/** The configuration read once at start-up. */
export function useConfig(): AppConfig {
  return (cached ??= loadConfig())
}
