import { requireManageableUser } from '../../../../services/access'
import { audit } from '../../../../services/audit'
import { disableTotp } from '../../../../services/totp'

export default defineEventHandler(async (event) => {
  const admin = await requirePermission(event, 'users.manage')
  const target = await requireManageableUser(admin, await validId(event))
  await noBody(event)
  await disableTotp(target.id)
  await audit(event, 'admin.2fa_reset', { targetType: 'user', targetId: target.id, meta: { wasEnabled: target.totpEnabled } })
  setResponseStatus(event, 204)
  return null
})
