import { and, asc, count, eq, inArray } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import { BUILT_IN, BUILT_IN_ROLES, type BuiltInRole, effectivePermissions, isBuiltInRole, PERMISSIONS } from '#shared/permissions'
import type { ApiRole, RoleChanges, RoleInput } from '#shared/roles'
import { inList, jsonValue, listValue, readRows, referenceGone, useDb } from '../db/client'
import { type CustomRole, roles, type User, userRoles, users } from '../db/schema'
import type { Viewer } from './access'
import { forgetAuth } from './auth-cache'
import { plainFolded } from './search'

/** The extra (custom) roles of each user: names and permission lists, read fresh on every request. */
export async function extraRolesOf(userIds: readonly string[]): Promise<Map<string, Array<{ id: string, name: string, permissions: string[] }>>> {
  const result = new Map<string, Array<{ id: string, name: string, permissions: string[] }>>()
  if (!userIds.length) return result
  // hand-written and positional (db/hand-written.ts): read on every sign-in check that misses the auth cache
  const rows = await readRows(`select ur.user_id, r.id, r.name, r.permissions from user_roles ur join roles r on r.id = ur.role_id where ${inList('ur.user_id')}`, [listValue(userIds)])
  for (const [userId, id, name, stored] of rows as Array<[string, string, string, unknown]>) {
    const list = result.get(userId) ?? []
    const permissions = jsonValue(stored)
    list.push({ id, name, permissions: Array.isArray(permissions) ? permissions as string[] : [] })
    result.set(userId, list)
  }
  return result
}

/** A user with their effective permissions: what the scope module and every guard ask. */
export async function asViewer(user: User): Promise<Viewer> {
  const extra = (await extraRolesOf([user.id])).get(user.id) ?? []
  return withRoles(user, extra)
}

export function withRoles<U extends Pick<User, 'role' | 'active'>>(user: U, extra: ReadonlyArray<{ name: string, permissions: readonly string[] }>): U & Pick<Viewer, 'permissions' | 'roleNames'> {
  return {
    ...user,
    // a deactivated account holds nothing
    permissions: user.active ? effectivePermissions(user.role, extra.map(r => r.permissions)) : [],
    roleNames: extra.map(r => r.name).sort(),
  }
}

// ---- custom roles CRUD and assignment (API.md "Roles and permissions") ----------------------------------------

const BUILT_IN_DESCRIPTIONS: Record<BuiltInRole, string> = {
  admin: 'Everything, for everyone',
  supervisor: 'Their own work and their team\'s',
  worker: 'Their own work',
}

const builtInById = (id: string) => BUILT_IN_ROLES.find(name => BUILT_IN[name].id === id)

/**
 * What a `roleId` filter means (any id `GET /api/admin/roles` lists): a built-in role's name, or a custom role's id;
 * 400 naming `field` when no role has that id.
 */
export async function roleFilter(id: string, field = 'roleId'): Promise<{ builtIn: BuiltInRole } | { customId: string }> {
  const builtIn = builtInById(id)
  if (builtIn) return { builtIn }
  const [role] = await useDb().select({ id: roles.id }).from(roles).where(eq(roles.id, id)).limit(1)
  if (!role) throw fieldError(field, 'no role has this id')
  return { customId: role.id }
}

const roleConflict = () => fieldError('name', 'a role with this name already exists', 409)
const roleNotFound = () => createError({ statusCode: 404, message: 'Role not found' })
const builtInLocked = () => createError({ statusCode: 403, message: 'Built-in roles cannot be changed or deleted' })

/** Every role: the three built-in ones first (fixed ids), then the custom ones by name, each with its user count. */
export async function listRoles(): Promise<ApiRole[]> {
  const db = useDb()
  const [byRole, custom, assigned] = await Promise.all([
    db.select({ role: users.role, n: count() }).from(users).groupBy(users.role),
    db.select().from(roles).orderBy(asc(plainFolded(roles.name))),
    db.select({ roleId: userRoles.roleId, n: count() }).from(userRoles).groupBy(userRoles.roleId),
  ])
  const builtInCount = new Map(byRole.map(r => [r.role, Number(r.n)]))
  const customCount = new Map(assigned.map(r => [r.roleId, Number(r.n)]))
  return [
    ...BUILT_IN_ROLES.map(name => ({
      id: BUILT_IN[name].id,
      name,
      description: BUILT_IN_DESCRIPTIONS[name],
      permissions: [...BUILT_IN[name].permissions],
      builtIn: true,
      userCount: builtInCount.get(name) ?? 0,
    })),
    ...custom.map(role => toApiRole(role, customCount.get(role.id) ?? 0)),
  ]
}

function toApiRole(role: CustomRole, userCount: number): ApiRole {
  return {
    id: role.id,
    name: role.name,
    description: role.description,
    permissions: PERMISSIONS.filter(p => (role.permissions ?? []).includes(p)),
    builtIn: false,
    userCount,
  }
}

/** 409 when `name` is taken (case-insensitive), by a built-in role or another custom role. */
async function assertNameFree(name: string, exceptId?: string) {
  if (isBuiltInRole(name.toLowerCase())) throw roleConflict()
  // compared here, not by SQL lower(): SQLite's folds only ASCII, so "ÉLITE" and "élite" would differ there
  const wanted = name.toLowerCase()
  const all = await useDb().select({ id: roles.id, name: roles.name }).from(roles)
  if (all.some(r => r.id !== exceptId && r.name.toLowerCase() === wanted)) throw roleConflict()
}

async function userCountOf(roleId: string) {
  const [row] = await useDb().select({ n: count() }).from(userRoles).where(eq(userRoles.roleId, roleId))
  return Number(row?.n ?? 0)
}

export async function createRole(input: RoleInput): Promise<ApiRole> {
  await assertNameFree(input.name)
  const now = new Date()
  const [role] = await useDb().insert(roles).values({
    id: uuidv7(), name: input.name, description: input.description ?? '', permissions: input.permissions, createdAt: now, updatedAt: now,
  }).returning().catch(async (error: unknown) => {
    // a concurrent create of the same name loses on the unique index
    await assertNameFree(input.name)
    throw error
  })
  return toApiRole(role!, 0)
}

/** The custom role `id`: 403 for a built-in id, 404 when there is none. */
export async function requireCustomRole(id: string): Promise<CustomRole> {
  if (builtInById(id)) throw builtInLocked()
  const [role] = await useDb().select().from(roles).where(eq(roles.id, id)).limit(1)
  if (!role) throw roleNotFound()
  return role
}

export async function updateRole(role: CustomRole, changes: RoleChanges): Promise<ApiRole> {
  if (changes.name !== undefined && changes.name.toLowerCase() !== role.name.toLowerCase()) await assertNameFree(changes.name, role.id)
  const set = Object.fromEntries(Object.entries(changes).filter(([, value]) => value !== undefined))
  const [updated] = await useDb().update(roles).set({ ...set, updatedAt: new Date() }).where(eq(roles.id, role.id)).returning()
    .catch(async (error: unknown) => {
      if (changes.name) await assertNameFree(changes.name, role.id)
      throw error
    })
  if (!updated) throw roleNotFound() // deleted meanwhile
  await forgetAuth()
  return toApiRole(updated, await userCountOf(role.id))
}

/** Deletes a custom role nobody holds; 409 while it is assigned. */
export async function deleteRole(role: CustomRole) {
  const holders = await userCountOf(role.id)
  if (holders > 0) throw createError({ statusCode: 409, message: `The role is assigned to ${holders} user(s); remove it from them first`, data: { userCount: holders } })
  await useDb().delete(roles).where(eq(roles.id, role.id))
  await forgetAuth()
}

/** The extra roles of one user, as the roles API shows them. */
export async function rolesOfUser(userId: string): Promise<ApiRole[]> {
  const rows = await useDb().select({ role: roles }).from(userRoles).innerJoin(roles, eq(roles.id, userRoles.roleId))
    .where(eq(userRoles.userId, userId)).orderBy(asc(plainFolded(roles.name)))
  const counts = await Promise.all(rows.map(r => userCountOf(r.role.id)))
  return rows.map((r, i) => toApiRole(r.role, counts[i]!))
}

/**
 * Replaces a user's extra roles with `roleIds`. Built-in ids are not extra roles (400: the built-in level is
 * `role` on the user); unknown ids → 400 naming `roleIds`. Returns the names before and after, for the audit.
 */
export async function setUserRoles(userId: string, roleIds: string[]) {
  const badRoleIds = (problem: string) => fieldError('roleIds', problem)
  const builtIn = roleIds.find(id => builtInById(id))
  if (builtIn) throw badRoleIds(`${builtIn} is a built-in role; change the user's role instead`)
  const db = useDb()
  const found = roleIds.length ? await db.select({ id: roles.id, name: roles.name }).from(roles).where(inArray(roles.id, roleIds)) : []
  const missing = roleIds.find(id => !found.some(r => r.id === id))
  if (missing) throw badRoleIds(`unknown role ${missing}`)
  const before = await rolesOfUser(userId)
  const keep = new Set(roleIds)
  const drop = before.filter(r => !keep.has(r.id)).map(r => r.id)
  const add = roleIds.filter(id => !before.some(r => r.id === id))
  if (drop.length) await db.delete(userRoles).where(and(eq(userRoles.userId, userId), inArray(userRoles.roleId, drop)))
  // a concurrent assignment of the same pair loses quietly on the unique index
  for (const roleId of add) {
    await db.insert(userRoles).values({ id: uuidv7(), userId, roleId }).onConflictDoNothing().catch(async (error: unknown) => {
      if (!referenceGone(error)) throw error
      // the role or the user was deleted since the checks above: the answer a later request gets
      if (!(await db.select({ id: roles.id }).from(roles).where(eq(roles.id, roleId)).limit(1)).length) throw badRoleIds(`unknown role ${roleId}`)
      throw createError({ statusCode: 404, message: 'User not found' })
    })
  }
  await forgetAuth()
  return { before: before.map(r => r.name), after: found.map(r => r.name).sort() }
}
