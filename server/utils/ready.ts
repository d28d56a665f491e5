let markReady!: () => void
let markFailed!: (error: unknown) => void

/** Settles when start-up (migrations, seed) is done; requests wait for it (server/middleware/00.ready.ts). */
export const appReady = new Promise<void>((resolve, reject) => { markReady = resolve; markFailed = reject })
appReady.catch(() => {})

export const startupDone = () => markReady()
export const startupFailed = (error: unknown) => markFailed(error)
