import { UpdateUserBody } from '#shared/admin'
import { assertMayGrantRole, requireManageableUser } from '../../../services/access'
import { updateUserByAdmin } from '../../../services/admin-users'
import { audit } from '../../../services/audit'
import { asViewer } from '../../../services/roles'
import { toApiUser } from '../../../services/users'

export default defineEventHandler(async (event) => {
  const admin = await requirePermission(event, 'users.manage')
  const id = await validId(event)
  const changes = await validBody(event, UpdateUserBody)
  const target = await requireManageableUser(admin, id)
  if (changes.role !== undefined && changes.role !== target.role) assertMayGrantRole(admin, changes.role)
  const { user, diff } = await updateUserByAdmin(admin, target, changes)
  if (Object.keys(diff).length) {
    const before = Object.fromEntries(Object.keys(diff).map(key => [key, target[key as keyof typeof diff]]))
    await audit(event, 'admin.user_updated', { targetType: 'user', targetId: id, meta: { before, after: diff } })
  }
  return { user: toApiUser(await asViewer(user)) }
})
