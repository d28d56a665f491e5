import type { PublicConfig } from '#shared/types'
import { DEMO_ACCOUNTS } from '../services/demo'
import { mailEnabled } from '../services/mail'
import { getSettings } from '../services/settings'

/** What the login page needs; the installed models only for a signed-in caller, the model server's address never. */
export default defineEventHandler(async (event): Promise<PublicConfig> => {
  const config = useConfig()
  const settings = await getSettings()
  const signedIn = !!(await getAuth(event))
  const models = signedIn ? await listModels().then(list => list.map(m => m.name), () => [] as string[]) : undefined
  return {
    registrationOpen: config.registrationDomains.length > 0,
    emailEnabled: mailEnabled(),
    demoAccounts: config.demoAccounts ? DEMO_ACCOUNTS.map(({ email, password, role }) => ({ email, password, role })) : [],
    defaultModel: settings.defaultModel,
    ...(models ? { models } : {}),
    maxMessageChars: settings.maxMessageChars,
  }
})
