import { describe, expect, it } from 'vitest'
import { loadConfig, parseRate } from '../../server/utils/config'

describe('runtime configuration', () => {
  it('parses rates like 10/15m', () => {
    expect(parseRate('10/15m')).toEqual({ max: 10, windowMs: 15 * 60_000 })
    expect(parseRate('30/1m')).toEqual({ max: 30, windowMs: 60_000 })
    expect(parseRate('5/h')).toEqual({ max: 5, windowMs: 3_600_000 })
    expect(parseRate('ten per minute')).toBeUndefined()
    expect(parseRate('0/1m')).toBeUndefined()
  })

  it('has the documented defaults', () => {
    const c = loadConfig({ SESSION_SECRET: 'x'.repeat(32) })
    expect(c.databaseUrl).toBe('file:./data/energyapp.db')
    expect(c.ollamaHost).toBe('http://127.0.0.1:11434')
    expect(c.ollamaModel).toBe('qwen2.5:3b-instruct')
    expect(c.publicOrigin).toBe('http://localhost:3000')
    expect(c.demoAccounts).toBe(true)
    expect(c.registrationDomains).toEqual([])
    expect(c.maxConcurrentGenerations).toBe(1)
    expect(c.loginRateLimit).toEqual({ max: 10, windowMs: 900_000 })
    expect(c.loginIpRateLimit).toEqual({ max: 30, windowMs: 900_000 })
    expect(c.chatRateLimit).toEqual({ max: 30, windowMs: 60_000 })
    expect(c.secureCookies).toBe(false)
  })

  it('refuses to start in production without a long SESSION_SECRET', () => {
    expect(() => loadConfig({ NODE_ENV: 'production' })).toThrow(/SESSION_SECRET is required/)
    expect(() => loadConfig({ NODE_ENV: 'production', SESSION_SECRET: 'short' })).toThrow(/SESSION_SECRET must be at least 32/)
  })

  it('never seeds demo accounts in production unless asked', () => {
    const secret = 'y'.repeat(40)
    expect(loadConfig({ NODE_ENV: 'production', SESSION_SECRET: secret }).demoAccounts).toBe(false)
    expect(loadConfig({ NODE_ENV: 'production', SESSION_SECRET: secret, DEMO_ACCOUNTS: 'true' }).demoAccounts).toBe(true)
  })

  it('names the variable when a value is bad', () => {
    const secret = { SESSION_SECRET: 'z'.repeat(32) }
    expect(() => loadConfig({ ...secret, LOGIN_RATE_LIMIT: 'lots' })).toThrow(/LOGIN_RATE_LIMIT/)
    expect(() => loadConfig({ ...secret, MAX_CONCURRENT_GENERATIONS: 'many' })).toThrow(/MAX_CONCURRENT_GENERATIONS must be a whole number/)
    expect(() => loadConfig({ ...secret, DATABASE_URL: 'mysql://x' })).toThrow(/DATABASE_URL/)
    expect(() => loadConfig({ ...secret, OLLAMA_HOST: 'not a url' })).toThrow(/OLLAMA_HOST/)
    expect(() => loadConfig({ ...secret, REQUIRE_2FA_ROLES: 'admin,boss' })).toThrow(/REQUIRE_2FA_ROLES/)
    expect(() => loadConfig({ ...secret, DEMO_ACCOUNTS: 'maybe' })).toThrow(/DEMO_ACCOUNTS/)
  })

  it('marks cookies Secure on an https public origin', () => {
    expect(loadConfig({ SESSION_SECRET: 'z'.repeat(32), PUBLIC_ORIGIN: 'https://chat.example.cl/' }).secureCookies).toBe(true)
  })

  it('email is off without SMTP_URL; MAIL_FROM defaults to no-reply at the public host', () => {
    const secret = { SESSION_SECRET: 'z'.repeat(32) }
    expect(loadConfig(secret).smtpUrl).toBeUndefined()
    const on = loadConfig({ ...secret, SMTP_URL: 'smtp://user:pass@127.0.0.1:587', PUBLIC_ORIGIN: 'https://chat.example.cl' })
    expect(on.smtpUrl).toBe('smtp://user:pass@127.0.0.1:587')
    expect(on.mailFrom).toBe('EnergyApp <no-reply@chat.example.cl>')
    expect(on.forgotPasswordRateLimit).toEqual({ max: 5, windowMs: 3_600_000 })
    expect(loadConfig({ ...secret, MAIL_FROM: 'Energía <avisos@example.cl>' }).mailFrom).toBe('Energía <avisos@example.cl>')
  })

  it('names a bad SMTP_URL or MAIL_FROM without echoing the SMTP password', () => {
    const secret = { SESSION_SECRET: 'z'.repeat(32) }
    expect(() => loadConfig({ ...secret, SMTP_URL: 'http://user:hunter2-secret@mail' })).toThrow(/SMTP_URL must start with smtp/)
    expect(() => loadConfig({ ...secret, SMTP_URL: 'http://user:hunter2-secret@mail' })).not.toThrow(/hunter2/)
    expect(() => loadConfig({ ...secret, MAIL_FROM: 'nobody' })).toThrow(/MAIL_FROM/)
    expect(() => loadConfig({ ...secret, FORGOT_PASSWORD_RATE_LIMIT: 'often' })).toThrow(/FORGOT_PASSWORD_RATE_LIMIT/)
  })

  it('reads the jobs, chat, database, log and SMS settings with their defaults', () => {
    const c = loadConfig({ SESSION_SECRET: 'z'.repeat(32) })
    expect(c.jobs).toEqual({ backoffMs: 5_000, leaseMs: 60_000, pollMs: 1_000, concurrency: 8, databasePoolSize: 4 })
    expect(c.chat).toEqual({ pingMs: 15_000, drainTimeoutMs: 30_000, watchMs: 1_000, checkpointMs: 3_000 })
    expect(c.generationLeaseMs).toBe(15_000)
    expect(c.databasePoolSize).toBe(10)
    expect(c.jobsWorker).toBe(true)
    expect(c.allowSharedDatabase).toBe(false)
    expect(c.logLevel).toBe('info')
    expect(c.logDir).toBeUndefined()
    expect(c.migrationsDir).toBeUndefined()
    expect(c.sms).toEqual({ modelAttempts: 4, sendAttempts: 6 })
    expect(c.twilio).toBeNull()
  })

  it('takes the values given', () => {
    const c = loadConfig({
      SESSION_SECRET: 'z'.repeat(32), JOB_POLL_MS: '50', JOB_CONCURRENCY: '2', JOBS_WORKER: 'false', ALLOW_SHARED_DATABASE: '1',
      CHAT_PING_MS: '100', DATABASE_POOL_SIZE: '4', JOB_DATABASE_POOL_SIZE: '2', LOG_DIR: '/var/log/energyapp', MIGRATIONS_DIR: '/opt/drizzle', SMS_SEND_ATTEMPTS: '2',
    })
    expect(c.jobs.pollMs).toBe(50)
    expect(c.jobs.concurrency).toBe(2)
    expect(c.jobsWorker).toBe(false)
    expect(c.allowSharedDatabase).toBe(true)
    expect(c.chat.pingMs).toBe(100)
    expect(c.databasePoolSize).toBe(4)
    expect(c.jobs.databasePoolSize).toBe(2)
    expect(c.logDir).toBe('/var/log/energyapp')
    expect(c.migrationsDir).toBe('/opt/drizzle')
    expect(c.sms.sendAttempts).toBe(2)
    expect(loadConfig({ SESSION_SECRET: 'z'.repeat(32), JOBS_WORKER: 'no' }).jobsWorker).toBe(false)
  })

  it('a bad number, flag or URL stops start-up naming the variable (it used to become the default silently)', () => {
    const secret = { SESSION_SECRET: 'z'.repeat(32) }
    for (const name of ['CHAT_CHECKPOINT_MS', 'CHAT_PING_MS', 'CHAT_DRAIN_TIMEOUT_MS', 'CHAT_WATCH_MS', 'JOB_BACKOFF_MS', 'JOB_LEASE_MS',
      'JOB_POLL_MS', 'JOB_CONCURRENCY', 'GENERATION_LEASE_MS', 'DATABASE_POOL_SIZE', 'JOB_DATABASE_POOL_SIZE', 'SMS_MODEL_ATTEMPTS', 'SMS_SEND_ATTEMPTS']) {
      expect(() => loadConfig({ ...secret, [name]: 'abc' }), name).toThrow(new RegExp(`${name} must be a whole number`))
      expect(() => loadConfig({ ...secret, [name]: '-5' }), name).toThrow(new RegExp(`${name} must be a whole number`))
      expect(() => loadConfig({ ...secret, [name]: '0' }), name).toThrow(new RegExp(`${name} must be at least`))
    }
    expect(() => loadConfig({ ...secret, JOB_CONCURRENCY: '100000' })).toThrow(/JOB_CONCURRENCY must be at most 256/)
    expect(() => loadConfig({ ...secret, JOBS_WORKER: 'off' })).toThrow(/JOBS_WORKER/)
    expect(() => loadConfig({ ...secret, ALLOW_SHARED_DATABASE: 'si' })).toThrow(/ALLOW_SHARED_DATABASE/)
    expect(() => loadConfig({ ...secret, TWILIO_API_BASE: 'api.twilio.com' })).toThrow(/TWILIO_API_BASE must be a URL/)
    expect(() => loadConfig({ ...secret, LOG_LEVEL: 'loud' })).toThrow(/LOG_LEVEL must be one of/)
  })

  it('the SMS channel is on with account, token and number', () => {
    const twilio = { SESSION_SECRET: 'z'.repeat(32), TWILIO_ACCOUNT_SID: 'AC1', TWILIO_AUTH_TOKEN: 'tok-secret', TWILIO_PHONE_NUMBER: '+15005550006' }
    expect(loadConfig(twilio).twilio).toEqual({ accountSid: 'AC1', authToken: 'tok-secret', phoneNumber: '+15005550006', whatsappNumber: '+15005550006', apiBase: 'https://api.twilio.com' })
    expect(loadConfig({ ...twilio, TWILIO_API_BASE: 'http://127.0.0.1:9999/' }).twilio?.apiBase).toBe('http://127.0.0.1:9999')
    expect(loadConfig({ ...twilio, TWILIO_PHONE_NUMBER: '' }).twilio).toBeNull()
  })
})
