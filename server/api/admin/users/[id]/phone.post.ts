import { PhoneBody } from '#shared/account'
import { requireManageableUser } from '../../../../services/access'
import { setVerifiedPhone } from '../../../../services/admin-users'
import { audit } from '../../../../services/audit'
import { asViewer } from '../../../../services/roles'
import { toApiUser } from '../../../../services/users'

/** An admin sets a verified number (until people can verify one by SMS themselves). */
export default defineEventHandler(async (event) => {
  const admin = await requirePermission(event, 'users.manage')
  const id = await validId(event)
  const { phone } = await validBody(event, PhoneBody)
  const target = await requireManageableUser(admin, id)
  const user = await setVerifiedPhone(target, phone)
  await audit(event, 'admin.user_phone_set', { targetType: 'user', targetId: user.id })
  return toApiUser(await asViewer(user))
})
