import { Verify2faBody } from '#shared/schemas'
import { verifyChallenge } from '../../services/login'

export default defineEventHandler(async (event) => {
  const { challenge, code } = await validBody(event, Verify2faBody)
  return verifyChallenge(event, challenge, code)
})
