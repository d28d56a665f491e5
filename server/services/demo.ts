import { eq } from 'drizzle-orm'
import { useDb } from '../db/client'
import { users } from '../db/schema'
import { createUser, findUserByEmail } from './users'

export const DEMO_ACCOUNTS = [
  { email: 'admin@example.com', password: 'admin123', role: 'admin', fullName: 'Administradora Demo' },
  { email: 'supervisor@example.com', password: 'supervisor123', role: 'supervisor', fullName: 'Supervisor Demo' },
  { email: 'trabajador@example.com', password: 'worker123', role: 'worker', fullName: 'Trabajador Demo' },
] as const

/** Creates the demo accounts that are missing (idempotent); the worker reports to the demo supervisor. */
export async function seedDemoAccounts() {
  const ids: Record<string, string> = {}
  let workerCreated = false
  for (const account of DEMO_ACCOUNTS) {
    const existing = await findUserByEmail(account.email)
    if (existing) { ids[account.role] = existing.id; continue }
    // another instance starting at the same moment may win the insert; its row is as good as ours
    const created = await createUser({ ...account, isDemo: true }).catch(() => findUserByEmail(account.email))
    ids[account.role] = created!.id
    workerCreated ||= account.role === 'worker'
  }
  if (workerCreated) await useDb().update(users).set({ supervisorId: ids.supervisor }).where(eq(users.id, ids.worker!))
}
