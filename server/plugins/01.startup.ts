import { sql } from 'drizzle-orm'
import { runMigrations } from '../db/migrate'
import { closeConnections, useConnection } from '../db/client'
import { dialect } from '../db/schema'
import { seedDemoAccounts } from '../services/demo'
import { confirmEarlierAccounts } from '../services/email-links'
import { claimDatabase, ProcessConflict, releaseDatabase } from '../services/instances'
import { deferStop, drainWork, stopAll } from '../services/shutdown'
import { ensureDefaultSystemPrompt } from '../services/system-prompts'
import { twoFactorPolicy } from '../services/users'
import { displayUrl } from '../services/model/hosts'
import { startAuthCache } from '../services/auth-cache'
import { loadRedisClient } from '../utils/redis'

/** Start-up: validate configuration (one clear line and exit on error), migrate, seed. */
export default defineNitroPlugin(async (nitroApp) => {
  // the build prerenders the data-free app shell; it needs no database
  if (import.meta.prerender) return startupDone()
  nitroApp.hooks.hook('close', async () => {
    // answers still streaming after the grace period are stopped and saved before the database goes away
    stopAll()
    await drainWork(10_000)
    await closeConnections()
    await releaseDatabase()
  })
  let config
  try { config = useConfig() }
  catch (error) {
    console.error(`energyapp: ${(error as Error).message}`)
    process.exit(1)
  }
  // SIGTERM: serve on for SHUTDOWN_DRAIN_MS while health answers 503, then Nitro's shutdown (services/shutdown.ts)
  deferStop(config.shutdownDrainMs)
  try {
    if (config.redisUrl) await loadRedisClient()
    // the sign-in cache's invalidation channel (REDIS_URL) is subscribed before the first signed-in request
    startAuthCache()
    // several processes on one database without Redis: refused (services/instances.ts), unless this process says it
    // knowingly shares the database (ALLOW_SHARED_DATABASE=1: a test's second server, a one-off maintenance process)
    if (!config.allowSharedDatabase) await claimDatabase(config.databaseUrl, !!config.redisUrl)
    await runMigrations(config.databaseUrl, config.migrationsDir)
    if (dialect === 'sqlite') {
      // WAL (kept in the file): readers never wait for the writer
      await useConnection().db.run(sql`pragma journal_mode = wal`).catch(() => {})
    }
    await ensureDefaultSystemPrompt()
    await confirmEarlierAccounts()
    if (config.demoAccounts) await seedDemoAccounts()
    startupDone()
  }
  catch (error) {
    if (error instanceof ProcessConflict) {
      console.error(`energyapp: ${error.message}`)
      process.exit(1)
    }
    console.error(`energyapp: database start-up failed: ${(error as Error).message}`)
    startupFailed(error)
    process.exit(1)
  }
  log.info('2fa policy', twoFactorPolicy(config))
  log.info('started', { db: dialect, ollama: config.modelHosts.map(h => `${h.kind === 'openai' ? 'openai+' : ''}${displayUrl(h.url)}`), demo: config.demoAccounts, origin: config.publicOrigin, email: !!config.smtpUrl })
})
