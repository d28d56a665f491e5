import { RegisterBody } from '#shared/schemas'
import { audit } from '../../services/audit'
import { sendVerificationLink } from '../../services/email-links'
import { mailEnabled } from '../../services/mail'
import { assertPasswordAllowed } from '../../services/passwords'
import { startSession } from '../../services/sessions'
import { defaultSupervisorFor } from '../../services/team'
import { createUser, domainAllowed, emailTaken, findUserByEmail, toApiUser } from '../../services/users'

export default defineEventHandler(async (event) => {
  const body = await validBody(event, RegisterBody)
  const { registrationDomains } = useConfig()
  if (registrationDomains.length === 0) throw createError({ statusCode: 403, message: 'Registration is closed' })
  if (!domainAllowed(registrationDomains, body.email))
    throw fieldError('email', 'this domain may not register', 403)
  // each sign-up costs a password hash: the per-address login budget bounds the failed ones (weak password, email
  // taken) and those that send mail; a sign-up that opens an account at once gives its attempt back, as a login does
  const budget = `register:ip:${clientIp(event)}`
  await enforceRateLimit(event, budget, useConfig().loginIpRateLimit)
  assertPasswordAllowed('password', body.password, body.email)
  if (await findUserByEmail(body.email)) throw emailTaken()
  // with email on, the account waits for its mailbox to be confirmed: a link instead of a session
  const confirm = mailEnabled()
  // the domain's default supervisor, so a new worker is in a team (and seen) from the start
  const supervisorId = await defaultSupervisorFor(body.email)
  const user = await createUser({ email: body.email, password: body.password, fullName: body.fullName, role: 'worker', supervisorId, emailVerified: !confirm })
  await audit(event, 'auth.register', { actorId: user.id, targetType: 'user', targetId: user.id, meta: { emailConfirmation: confirm } })
  if (confirm) {
    await sendVerificationLink(user)
    setResponseStatus(event, 202)
    return { verificationSent: true as const }
  }
  await rateLimitRefund(budget)
  await startSession(event, user)
  setResponseStatus(event, 201)
  return { user: toApiUser(user) }
})
