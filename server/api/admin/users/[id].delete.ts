import * as v from 'valibot'
import { Id } from '#shared/schemas'
import { requireManageableUser } from '../../../services/access'
import { deleteUserByAdmin } from '../../../services/admin-users'
import { audit } from '../../../services/audit'

const DeleteUserQuery = v.object({ transferTo: v.optional(Id) })

/** Deletes a user: their conversations and reports go to `transferTo`, or are deleted with them. */
export default defineEventHandler(async (event) => {
  const admin = await requirePermission(event, 'users.manage')
  const id = await validId(event)
  const { transferTo } = await validQuery(event, DeleteUserQuery)
  const target = await requireManageableUser(admin, id)
  const moved = await deleteUserByAdmin(admin, target, transferTo)
  await audit(event, 'admin.user_deleted', {
    targetType: 'user',
    targetId: target.id,
    meta: { email: target.email, role: target.role, transferTo: transferTo ?? null, ...moved },
  })
  setResponseStatus(event, 204)
  return null
})
