import { ProfileBody } from '#shared/account'
import { audit } from '../../services/audit'
import { updateProfile } from '../../services/account'
import { asViewer } from '../../services/roles'
import { toApiUser } from '../../services/users'

/** The user's own profile (name, bio, preferences); nothing else can be changed here. */
export default defineEventHandler(async (event) => {
  const auth = await requireAuth(event, { allowUnenrolled: true, allowPasswordHold: true })
  const changes = await validBody(event, ProfileBody)
  const { user, changed } = await updateProfile(auth.user, changes)
  if (changed.length) await audit(event, 'auth.profile_updated', { targetType: 'user', targetId: user.id, meta: { fields: changed } })
  return toApiUser(await asViewer(user))
})
