import { runSearchRebuild, searchRebuildDue } from '../services/search-rebuild'
import { onShutdown, trackWork } from '../services/shutdown'

/**
 * PostgreSQL: the stored messages' search vectors are rebuilt in the background after migration 0012 (see
 * services/search-rebuild.ts), by the processes that run background work, once the app is ready; a shutdown stops
 * it between two batches (the next start goes on from the cursor).
 */
export default defineNitroPlugin(() => {
  if (import.meta.prerender || !useConfig().jobsWorker) return
  let stopped = false
  onShutdown(() => { stopped = true })
  appReady.then(async () => {
    if (stopped || !(await searchRebuildDue())) return
    await trackWork(runSearchRebuild(() => stopped))
  }).catch(error => log.error('search rebuild failed to start', { error: (error as Error).message }))
})
