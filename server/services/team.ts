import { and, eq, inArray } from 'drizzle-orm'
import * as v from 'valibot'
import { Id } from '#shared/schemas'
import { useDb } from '../db/client'
import { settings, users } from '../db/schema'
import { forgetAuth } from './auth-cache'

/** Team membership: the default supervisor of new sign-ups per email domain, and bulk assignment. */

const KEY = 'signup-supervisors'
const Domain = v.pipe(v.string('must be a string'), v.trim(), v.toLowerCase(), v.regex(/^[a-z0-9.-]+\.[a-z]{2,}$/, 'must be an email domain like example.com'))

export const TeamDefaultsBody = v.strictObject({
  signupSupervisors: v.pipe(
    v.array(v.strictObject({ domain: Domain, supervisorId: Id }), 'must be a list of {domain, supervisorId}'),
    v.maxLength(200, 'has too many entries'),
    v.check(list => new Set(list.map(e => e.domain)).size === list.length, 'lists a domain twice'),
  ),
})
export type TeamDefaults = v.InferOutput<typeof TeamDefaultsBody>

export const BulkSupervisorBody = v.strictObject({
  userIds: v.pipe(v.array(Id, 'must be a list of user ids'), v.minLength(1, 'must name at least one user'), v.maxLength(200, 'has too many entries'), v.transform(ids => [...new Set(ids)])),
  supervisorId: v.nullable(Id),
})


export async function getTeamDefaults(): Promise<TeamDefaults> {
  const [row] = await useDb().select().from(settings).where(eq(settings.key, KEY)).limit(1)
  const list = Array.isArray((row?.value as TeamDefaults | undefined)?.signupSupervisors) ? (row!.value as TeamDefaults).signupSupervisors : []
  return { signupSupervisors: list }
}

/** Saves the per-domain defaults; every supervisorId must be an active supervisor or admin. */
export async function saveTeamDefaults(value: TeamDefaults) {
  const ids = [...new Set(value.signupSupervisors.map(e => e.supervisorId))]
  const found = ids.length ? await useDb().select({ id: users.id, role: users.role, active: users.active }).from(users).where(inArray(users.id, ids)) : []
  const bad = ids.find(id => !found.some(u => u.id === id && u.active && u.role !== 'worker'))
  if (bad) throw fieldError('signupSupervisors', `${bad} is not an active supervisor or admin`)
  await useDb().insert(settings).values({ key: KEY, value }).onConflictDoUpdate({ target: settings.key, set: { value } })
  return value
}

/** The supervisor a new sign-up with `email` gets, when one is set for its domain and still active. */
export async function defaultSupervisorFor(email: string): Promise<string | null> {
  const domain = email.split('@').pop()!.toLowerCase()
  const entry = (await getTeamDefaults()).signupSupervisors.find(e => e.domain === domain)
  if (!entry) return null
  const [supervisor] = await useDb().select({ id: users.id }).from(users)
    .where(and(eq(users.id, entry.supervisorId), eq(users.active, true), inArray(users.role, ['supervisor', 'admin']))).limit(1)
  return supervisor?.id ?? null
}

/** Gives every user of `userIds` the supervisor `supervisorId` (or none); returns how many changed. */
export async function assignSupervisor(userIds: string[], supervisorId: string | null) {
  if (supervisorId) {
    if (userIds.includes(supervisorId)) throw fieldError('supervisorId', 'a user cannot supervise themself')
    const [supervisor] = await useDb().select().from(users).where(eq(users.id, supervisorId)).limit(1)
    if (!supervisor || !supervisor.active || supervisor.role === 'worker') throw fieldError('supervisorId', 'must be an active supervisor or admin')
  }
  const found = await useDb().select({ id: users.id }).from(users).where(inArray(users.id, userIds))
  const missing = userIds.find(id => !found.some(u => u.id === id))
  if (missing) throw fieldError('userIds', `unknown user ${missing}`)
  const updated = await useDb().update(users).set({ supervisorId }).where(inArray(users.id, userIds)).returning({ id: users.id })
  await forgetAuth()
  return updated.length
}
