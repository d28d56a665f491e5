import { toApiUser } from '../../services/users'

/**
 * The app's sign-in probe: `{user}` when signed in, `{user: null}` when not. Always 200, so a signed-out visit
 * logs no failed request; `GET /api/auth/me` keeps its 401 for API clients.
 */
export default defineEventHandler(async (event) => {
  const auth = await getAuth(event)
  return { user: auth ? toApiUser(auth.user) : null }
})
