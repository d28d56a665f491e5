import { getStarterPrompts } from '../services/starter-prompts'

// The empty chat's suggestions, for any signed-in user (`builtIn`: the app's examples, until an admin saves a list).
export default defineEventHandler(async (event) => {
  await requireUser(event)
  return await getStarterPrompts()
})
