import { PhoneCodeBody } from '#shared/account'
import { confirmPhoneCode } from '../../../../services/account'
import { audit } from '../../../../services/audit'
import { asViewer } from '../../../../services/roles'
import { toApiUser } from '../../../../services/users'

export default defineEventHandler(async (event) => {
  const viewer = await requireUser(event)
  const { code } = await validBody(event, PhoneCodeBody)
  const user = await confirmPhoneCode(viewer, code)
  await audit(event, 'auth.phone_verified', { targetType: 'user', targetId: user.id })
  return toApiUser(await asViewer(user))
})
