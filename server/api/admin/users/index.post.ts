import { CreateUserBody } from '#shared/admin'
import { assertMayGrantRole } from '../../../services/access'
import { createUserByAdmin } from '../../../services/admin-users'
import { audit } from '../../../services/audit'
import { toApiUser } from '../../../services/users'

export default defineEventHandler(async (event) => {
  const actor = await requirePermission(event, 'users.manage')
  const body = await validBody(event, CreateUserBody)
  assertMayGrantRole(actor, body.role)
  const { user, temporaryPassword } = await createUserByAdmin(body)
  await audit(event, 'admin.user_created', {
    targetType: 'user',
    targetId: user.id,
    meta: { email: user.email, role: user.role, supervisorId: user.supervisorId, passwordGenerated: !!temporaryPassword },
  })
  setResponseStatus(event, 201)
  return temporaryPassword ? { user: toApiUser(user), temporaryPassword } : { user: toApiUser(user) }
})
