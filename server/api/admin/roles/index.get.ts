import { listRoles } from '../../../services/roles'

export default defineEventHandler(async (event) => {
  await requirePermission(event, 'roles.manage')
  return { data: await listRoles() }
})
