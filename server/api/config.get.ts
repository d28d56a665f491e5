import type { PublicConfig } from '#shared/types'
import { DEMO_ACCOUNTS } from '../services/demo'
import { mailEnabled } from '../services/mail'
import { getSettings } from '../services/settings'

export default defineEventHandler(async (): Promise<PublicConfig> => {
  const config = useConfig()
  const settings = await getSettings()
  const models = await listModels().then(list => list.map(m => m.name), () => [] as string[])
  return {
    registrationOpen: config.registrationDomains.length > 0,
    emailEnabled: mailEnabled(),
    demoAccounts: config.demoAccounts ? DEMO_ACCOUNTS.map(({ email, password, role }) => ({ email, password, role })) : [],
    defaultModel: settings.defaultModel,
    models,
    maxMessageChars: settings.maxMessageChars,
    ollamaHost: config.ollamaHost,
  }
})
