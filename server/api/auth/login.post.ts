import { LoginBody } from '#shared/schemas'
import { login } from '../../services/login'

export default defineEventHandler(async (event) => {
  const body = await validBody(event, LoginBody)
  const result = await login(event, body)
  setResponseStatus(event, result.status)
  return result.body
})
