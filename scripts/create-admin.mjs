// `npm run create-admin -- --email ana@empresa.cl [--name "Ana Pérez"] [--password …]`
// Production bootstrap: applies the migrations, then creates an administrator — or promotes (and re-enables)
// the account when the email already exists — in the database named by DATABASE_URL. Plain JavaScript with
// plain SQL matching server/db/schema, because production has no TypeScript loader.
// Without --password: asks on a terminal, otherwise generates a strong password and prints it once.
import { randomBytes } from 'node:crypto'
import { existsSync, mkdirSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parseArgs } from 'node:util'
import { createClient } from '@libsql/client'
import { hash } from '@node-rs/argon2'
import { drizzle as drizzleLibsql } from 'drizzle-orm/libsql'
import { migrate as migrateLibsql } from 'drizzle-orm/libsql/migrator'
import { drizzle as drizzlePg } from 'drizzle-orm/postgres-js'
import { migrate as migratePg } from 'drizzle-orm/postgres-js/migrator'
import postgres from 'postgres'
import { uuidv7 } from 'uuidv7'

// Same as server/services/passwords.ts (argon2id, m=19456 KiB, t=2, p=1) and server/db/migrate.ts (lock id).
const ARGON2 = { algorithm: 2, memoryCost: 19456, timeCost: 2, parallelism: 1 }
const MIGRATION_LOCK = 720_301
const USAGE = 'usage: npm run create-admin -- --email ana@empresa.cl [--name "Ana Pérez"] [--password …]'

class UsageError extends Error {}

function readOptions(argv) {
  let parsed
  try {
    parsed = parseArgs({ args: argv, options: { email: { type: 'string' }, name: { type: 'string' }, password: { type: 'string' }, help: { type: 'boolean', short: 'h' } } })
  }
  catch (error) { throw new UsageError(error.message) }
  const { values } = parsed
  if (values.help) return null
  const email = values.email?.trim().toLowerCase()
  if (!email) throw new UsageError('--email is required')
  if (email.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) throw new UsageError(`--email: "${values.email}" is not an email address`)
  const name = values.name?.trim() || email.split('@')[0]
  if (name.length > 120) throw new UsageError('--name: at most 120 characters')
  if (values.password !== undefined) {
    const problem = passwordProblem(values.password)
    if (problem) throw new UsageError(`--password: ${problem}`)
  }
  return { email, name, password: values.password }
}

/** The basic rules of server/services/passwords.ts (length and variety). */
function passwordProblem(password) {
  if (password.length < 10) return 'must be at least 10 characters'
  if (password.length > 256) return 'must be at most 256 characters'
  if (new Set(password.toLowerCase()).size < 4) return 'needs more different characters'
  return null
}

/** Reads a line from the terminal without echoing it. */
function askHidden(question) {
  return new Promise((ok, fail) => {
    const { stdin, stdout } = process
    let answer = ''
    stdout.write(question)
    stdin.setRawMode(true)
    stdin.resume()
    stdin.setEncoding('utf8')
    const onData = (chunk) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          stdin.setRawMode(false); stdin.pause(); stdin.off('data', onData); stdout.write('\n')
          return ok(answer)
        }
        if (ch === '\u0003') { stdin.setRawMode(false); stdout.write('\n'); return fail(new UsageError('cancelled')) }
        if (ch === '\u007F' || ch === '\b') answer = answer.slice(0, -1)
        else answer += ch
      }
    }
    stdin.on('data', onData)
  })
}

/**
 * The password to set: the one given, one typed on a terminal, or a generated one. For an existing account
 * (`keepable`) nothing given and nothing typed means "keep the current password" (undefined).
 */
async function choosePassword(given, keepable) {
  if (given !== undefined) return { password: given, generated: false }
  if (process.stdin.isTTY) {
    const empty = keepable ? 'vacía = mantener la actual' : 'vacía = generar una'
    for (;;) {
      const first = await askHidden(`Contraseña nueva (${empty}): `)
      if (!first) break
      const problem = passwordProblem(first)
      if (problem) { console.error(`  rechazada: ${problem}`); continue }
      if (await askHidden('Repítela: ') === first) return { password: first, generated: false }
      console.error('  no coinciden; otra vez')
    }
  }
  if (keepable) return { password: undefined, generated: false }
  return { password: randomBytes(18).toString('base64url'), generated: true }
}

/** drizzle/<dialect> next to this script's repo, or MIGRATIONS_DIR, or the copy inside the build. */
function migrationsFolder(dialect) {
  const root = resolve(import.meta.dirname, '..')
  const candidates = [process.env.MIGRATIONS_DIR, join(root, 'drizzle'), join(root, '.output', 'server', 'drizzle')].filter(Boolean)
  const found = candidates.find(dir => existsSync(join(dir, dialect, 'meta', '_journal.json')))
  if (!found) throw new Error(`migrations not found (looked in ${candidates.join(', ')})`)
  return join(found, dialect)
}

/** One small interface over both drivers: migrate, one transaction of statements with `?` placeholders, close. */
function openDatabase(url) {
  if (/^postgres(ql)?:\/\//.test(url)) {
    const sql = postgres(url, { max: 1, onnotice: () => {} })
    return {
      dialect: 'pg',
      async migrate() {
        await sql`select pg_advisory_lock(${MIGRATION_LOCK})`
        try { await migratePg(drizzlePg(sql), { migrationsFolder: migrationsFolder('pg') }) }
        finally { await sql`select pg_advisory_unlock(${MIGRATION_LOCK})` }
      },
      transaction: work => sql.begin(tx => work(async (text, params = []) => {
        let n = 0
        return tx.unsafe(text.replace(/\?/g, () => `$${++n}`), params)
      })),
      close: () => sql.end({ timeout: 5 }),
    }
  }
  if (!/^(file:|libsql:)/.test(url)) throw new UsageError('DATABASE_URL must start with file:, libsql: or postgres://')
  if (url.startsWith('file:')) mkdirSync(dirname(resolve(url.slice('file:'.length))), { recursive: true })
  const client = createClient({ url })
  return {
    dialect: 'sqlite',
    async migrate() {
      await client.execute('pragma busy_timeout = 5000')
      await migrateLibsql(drizzleLibsql(client), { migrationsFolder: migrationsFolder('sqlite') })
    },
    async transaction(work) {
      const tx = await client.transaction('write')
      try {
        const result = await work(async (text, params = []) => (await tx.execute({ sql: text, args: params.map(p => typeof p === 'boolean' ? Number(p) : p) })).rows)
        await tx.commit()
        return result
      }
      finally { tx.close() }
    },
    close: async () => client.close(),
  }
}

/** Creates the admin or promotes the existing account; returns what happened. */
async function upsertAdmin(db, { email, name, password }) {
  const now = new Date()
  const at = db.dialect === 'pg' ? now.toISOString() : now.getTime()
  const passwordHash = password === undefined ? null : await hash(password, ARGON2)
  return db.transaction(async (query) => {
    const [existing] = await query('select id, role, active from users where email = ?', [email])
    let id = existing?.id
    if (!existing) {
      id = uuidv7()
      await query('insert into users (id, email, password_hash, full_name, role, active, totp_enabled, is_demo, created_at) values (?, ?, ?, ?, ?, ?, ?, ?, ?)',
        [id, email, passwordHash, name, 'admin', true, false, false, at])
    }
    else {
      await query('update users set role = ?, active = ?, supervisor_id = null where id = ?', ['admin', true, id])
      if (passwordHash) {
        // a demo account given its own password is no longer one (it signs in while DEMO_ACCOUNTS is off too)
        await query('update users set password_hash = ?, is_demo = ? where id = ?', [passwordHash, false, id])
        // a new password ends every session opened with the old one
        await query('update sessions set revoked_at = ? where user_id = ? and revoked_at is null', [at, id])
      }
    }
    const action = existing ? 'promoted' : 'created'
    const meta = JSON.stringify({ via: 'create-admin', action, previousRole: existing?.role ?? null, passwordSet: !!passwordHash })
    await query(`insert into audit_events (id, at, actor_id, action, target_type, target_id, ip, user_agent, meta) values (?, ?, null, ?, ?, ?, null, ?, ${db.dialect === 'pg' ? '?::jsonb' : '?'})`,
      [uuidv7(), at, 'admin.bootstrap', 'user', id, 'scripts/create-admin.mjs', meta])
    return { id, action, previousRole: existing?.role }
  })
}

async function main() {
  const options = readOptions(process.argv.slice(2))
  if (!options) { console.log(USAGE); return 0 }
  const url = process.env.DATABASE_URL || 'file:./data/energyapp.db'
  const db = openDatabase(url)
  try {
    await db.migrate()
    const exists = (await db.transaction(query => query('select id from users where email = ?', [options.email]))).length > 0
    const { password, generated } = await choosePassword(options.password, exists)
    const result = await upsertAdmin(db, { ...options, password })
    const where = db.dialect === 'pg' ? 'PostgreSQL' : url
    if (result.action === 'created') console.log(`energyapp: created admin ${options.email} (id ${result.id}) in ${where}`)
    else console.log(`energyapp: ${options.email} is now an active admin (was ${result.previousRole}) in ${where}; ${password === undefined ? 'password unchanged' : 'password replaced, sessions signed out'}`)
    if (generated) console.log(`energyapp: password (shown once, store it now): ${password}`)
    return 0
  }
  finally { await db.close() }
}

main().then(code => process.exit(code), (error) => {
  console.error(`energyapp: create-admin: ${error.message}`)
  if (error instanceof UsageError) console.error(USAGE)
  process.exit(error instanceof UsageError ? 2 : 1)
})
