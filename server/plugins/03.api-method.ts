/** The routes outside /api that answer JSON or XML for machines (server/routes/): monitors and Twilio. */
const MACHINE_ROUTES = new Set(['/health', '/twilio_webhook'])

/**
 * An /api path reaches the page renderer only when a route exists for another method (unknown paths hit
 * api/[...path].ts): answer a JSON 405, never the app shell with a 200. So do the machine routes at the root.
 */
export default defineNitroPlugin((nitroApp) => {
  nitroApp.hooks.hook('render:before', ({ event }) => {
    const path = event.path.split('?')[0]!
    if (!path.startsWith('/api/') && !MACHINE_ROUTES.has(path)) return
    throw createError({ statusCode: 405, statusMessage: 'Method Not Allowed', message: `Method ${event.method} is not allowed on ${path}` })
  })
})
