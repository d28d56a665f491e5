import { requireVisibleUser } from '../../../../services/access'
import { rolesOfUser } from '../../../../services/roles'

export default defineEventHandler(async (event) => {
  const viewer = await requirePermission(event, 'roles.manage', 'users.read', 'users.manage')
  const user = await requireVisibleUser(viewer, await validId(event))
  return { data: await rolesOfUser(user.id) }
})
