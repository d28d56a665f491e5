import { afterAll } from 'vitest'
import { closeSqlClients } from '../api/admin-support'

// Run before each file of the API and e2e projects (vitest.config.ts `setupFiles`). An API project's files share one
// worker process (`isolate: false`), where a support module is evaluated once: the clean-up a file needs after its
// last test is registered here, for every file, not in the module itself.
afterAll(closeSqlClients)
