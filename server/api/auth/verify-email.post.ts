import { VerifyEmailBody } from '#shared/schemas'
import { confirmEmail } from '../../services/email-links'
import { requireMail } from '../../services/mail'

/** The link mailed at sign-up: confirms the mailbox and signs the account in (once, within 24 h). */
export default defineEventHandler(async (event) => {
  requireMail()
  const { token } = await validBody(event, VerifyEmailBody)
  const { user } = await confirmEmail(event, token)
  return { user }
})
