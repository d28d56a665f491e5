import { listTokens } from '../../../services/tokens'

export default defineEventHandler(async (event) => {
  const user = await requireUser(event)
  return { data: await listTokens(user.id) }
})
