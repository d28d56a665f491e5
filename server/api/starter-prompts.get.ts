import { getStarterPrompts } from '../services/starter-prompts'

// The empty chat's suggestions, for any signed-in user.
export default defineEventHandler(async (event) => {
  await requireUser(event)
  return { data: await getStarterPrompts() }
})
