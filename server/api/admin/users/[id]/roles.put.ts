import { UserRolesBody } from '#shared/roles'
import { requireVisibleUser } from '../../../../services/access'
import { audit } from '../../../../services/audit'
import { asViewer, setUserRoles } from '../../../../services/roles'
import { toApiUser } from '../../../../services/users'

/** Only `roles.manage` assigns roles (so nobody hands themself a permission they do not hold). */
export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'roles.manage')
  const id = await validId(event)
  const { roleIds } = await validBody(event, UserRolesBody)
  const user = await requireVisibleUser(viewer, id)
  const { before, after } = await setUserRoles(user.id, roleIds)
  await audit(event, 'admin.user_roles_changed', { targetType: 'user', targetId: user.id, meta: { before, after } })
  return toApiUser(await asViewer(user))
})
