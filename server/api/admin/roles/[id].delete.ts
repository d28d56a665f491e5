import { audit } from '../../../services/audit'
import { deleteRole, requireCustomRole } from '../../../services/roles'

export default defineEventHandler(async (event) => {
  await requirePermission(event, 'roles.manage')
  const role = await requireCustomRole(await validId(event))
  await deleteRole(role)
  await audit(event, 'admin.role_deleted', { targetType: 'role', targetId: role.id, meta: { name: role.name } })
  setResponseStatus(event, 204)
  return null
})
