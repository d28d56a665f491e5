import { PhoneBody } from '#shared/account'
import { startPhoneVerification } from '../../../services/account'
import { audit } from '../../../services/audit'

export default defineEventHandler(async (event) => {
  const user = await requireUser(event)
  const { phone } = await validBody(event, PhoneBody)
  await enforceRateLimit(event, `phone-code:${user.id}`, { max: 5, windowMs: 60 * 60_000 })
  await startPhoneVerification(user, phone)
  await audit(event, 'auth.phone_code_sent', { targetType: 'user', targetId: user.id })
  setResponseStatus(event, 202)
  return { codeSent: true }
})
