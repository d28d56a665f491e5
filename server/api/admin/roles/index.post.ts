import { RoleBody } from '#shared/roles'
import { audit } from '../../../services/audit'
import { createRole } from '../../../services/roles'

export default defineEventHandler(async (event) => {
  await requirePermission(event, 'roles.manage')
  const body = await validBody(event, RoleBody)
  const role = await createRole(body)
  await audit(event, 'admin.role_created', { targetType: 'role', targetId: role.id, meta: { name: role.name, permissions: role.permissions } })
  setResponseStatus(event, 201)
  return role
})
