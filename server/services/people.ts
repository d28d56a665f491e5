import { inArray } from 'drizzle-orm'
import type { ApiPersonRef } from '#shared/messaging'
import { useDb } from '../db/client'
import { users } from '../db/schema'

/** Full names of the given users (ids of deleted users simply have no entry). */
export async function namesOf(ids: Array<string | null>) {
  const wanted = [...new Set(ids.filter((id): id is string => !!id))]
  if (!wanted.length) return new Map<string, string>()
  const rows = await useDb().select({ id: users.id, fullName: users.fullName }).from(users).where(inArray(users.id, wanted))
  return new Map(rows.map(r => [r.id, r.fullName]))
}

/** `{id, fullName}` of a person a message or report names; both null once that user was deleted. */
export function personRef(id: string | null, names: Map<string, string>): ApiPersonRef {
  const fullName = id ? names.get(id) : undefined
  return fullName === undefined ? { id: null, fullName: null } : { id: id!, fullName }
}
