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
})
