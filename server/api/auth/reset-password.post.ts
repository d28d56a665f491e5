import { ResetPasswordBody } from '#shared/schemas'
import { requireMail } from '../../services/mail'
import { resetPassword } from '../../services/password-reset'

/** A new password from the mailed reset link; every session and API token of the account ends. */
export default defineEventHandler(async (event) => {
  requireMail()
  const { token, newPassword } = await validBody(event, ResetPasswordBody)
  await resetPassword(event, token, newPassword)
  setResponseStatus(event, 204)
  return null
})
