import { RolePatch } from '#shared/roles'
import { audit } from '../../../services/audit'
import { requireCustomRole, updateRole } from '../../../services/roles'

export default defineEventHandler(async (event) => {
  await requirePermission(event, 'roles.manage')
  const id = await validId(event)
  const changes = await validBody(event, RolePatch)
  const before = await requireCustomRole(id)
  const role = await updateRole(before, changes)
  await audit(event, 'admin.role_updated', {
    targetType: 'role',
    targetId: id,
    meta: { before: { name: before.name, permissions: before.permissions }, after: { name: role.name, permissions: role.permissions } },
  })
  return role
})
