import { ForgotPasswordBody } from '#shared/schemas'
import { requireMail } from '../../services/mail'
import { requestPasswordReset } from '../../services/password-reset'

/** 202 whether or not the email has an account; a known active one gets a reset link by mail. */
export default defineEventHandler(async (event) => {
  requireMail()
  const { email } = await validBody(event, ForgotPasswordBody)
  await requestPasswordReset(event, email)
  setResponseStatus(event, 202)
  return { sent: true }
})
