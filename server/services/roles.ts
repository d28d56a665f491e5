import { eq, inArray } from 'drizzle-orm'
import { effectivePermissions } from '#shared/permissions'
import { useDb } from '../db/client'
import { roles, type User, userRoles } from '../db/schema'
import type { Viewer } from './access'

/** The extra (custom) roles of each user: names and permission lists, read fresh on every request. */
export async function extraRolesOf(userIds: readonly string[]): Promise<Map<string, Array<{ id: string, name: string, permissions: string[] }>>> {
  const result = new Map<string, Array<{ id: string, name: string, permissions: string[] }>>()
  if (!userIds.length) return result
  const rows = await useDb().select({ userId: userRoles.userId, id: roles.id, name: roles.name, permissions: roles.permissions })
    .from(userRoles).innerJoin(roles, eq(roles.id, userRoles.roleId))
    .where(userIds.length === 1 ? eq(userRoles.userId, userIds[0]!) : inArray(userRoles.userId, [...userIds]))
  for (const row of rows) {
    const list = result.get(row.userId) ?? []
    list.push({ id: row.id, name: row.name, permissions: Array.isArray(row.permissions) ? row.permissions : [] })
    result.set(row.userId, list)
  }
  return result
}

/** A user with their effective permissions: what the scope module and every guard ask. */
export async function asViewer(user: User): Promise<Viewer> {
  const extra = (await extraRolesOf([user.id])).get(user.id) ?? []
  return withRoles(user, extra)
}

export function withRoles(user: User, extra: ReadonlyArray<{ name: string, permissions: readonly string[] }>): Viewer {
  return {
    ...user,
    // a deactivated account holds nothing
    permissions: user.active ? effectivePermissions(user.role, extra.map(r => r.permissions)) : [],
    roleNames: extra.map(r => r.name).sort(),
  }
}
