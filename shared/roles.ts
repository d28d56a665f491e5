import * as v from 'valibot'
import { Id, maxChars } from './schemas'
import { isPermission, type Permission } from './permissions'

/** Request schemas and shapes of the roles API (API.md "Roles and permissions"), shared by server and store. */

const RoleNameText = v.pipe(v.string('must be a string'), v.trim(), v.minLength(1, 'is required'), maxChars(60))
const Description = v.pipe(v.string('must be a string'), v.trim(), maxChars(500))
const PermissionList = v.pipe(
  v.array(v.string('must be a list of permission names'), 'must be a list of permission names'),
  v.maxLength(50, 'has too many entries'),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const unknown = dataset.value.filter(name => !isPermission(name))
    if (unknown.length) addIssue({ message: `unknown permission ${unknown.map(n => `"${n.slice(0, 60)}"`).join(', ')}` })
  }),
  v.transform(list => [...new Set(list)] as Permission[]),
)

export const RoleBody = v.strictObject({ name: RoleNameText, description: v.optional(Description), permissions: PermissionList })
export const RolePatch = v.strictObject({ name: v.optional(RoleNameText), description: v.optional(Description), permissions: v.optional(PermissionList) })
export const UserRolesBody = v.strictObject({
  roleIds: v.pipe(v.array(Id, 'must be a list of role ids'), v.maxLength(50, 'has too many entries'), v.transform(ids => [...new Set(ids)])),
})

export type RoleInput = v.InferOutput<typeof RoleBody>
export type RoleChanges = v.InferOutput<typeof RolePatch>

export interface ApiRole {
  id: string
  name: string
  description: string
  permissions: Permission[]
  builtIn: boolean
  userCount: number
}
