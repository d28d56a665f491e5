import { requireManageableUser } from '../../../../services/access'
import { resetPasswordByAdmin } from '../../../../services/admin-users'
import { audit } from '../../../../services/audit'

export default defineEventHandler(async (event) => {
  const admin = await requirePermission(event, 'users.manage')
  const target = await requireManageableUser(admin, await validId(event))
  await noBody(event)
  const { temporaryPassword, revokedSessions } = await resetPasswordByAdmin(target)
  await audit(event, 'admin.password_reset', { targetType: 'user', targetId: target.id, meta: { revokedSessions } })
  return { temporaryPassword }
})
