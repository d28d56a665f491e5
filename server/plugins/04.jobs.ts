import '../services/channels/sms'
import { startWorker } from '../services/jobs'
import { onShutdown, trackWork } from '../services/shutdown'

/**
 * The background worker: starts once migrations are done, runs jobs stored in the database (the SMS channel's
 * answers and sends), and at shutdown stops claiming, lets running jobs finish briefly and hands the rest back.
 * `JOBS_WORKER=false` runs an app process that only enqueues (another process does the work).
 */
export default defineNitroPlugin(() => {
  if (import.meta.prerender || !useConfig().jobsWorker) return
  let stopped = false
  appReady.then(() => {
    if (stopped) return
    const worker = startWorker()
    onShutdown(() => { void trackWork(worker.stop(5_000)) })
  }, () => {})
  onShutdown(() => { stopped = true })
})
