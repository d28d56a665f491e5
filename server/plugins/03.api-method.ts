/**
 * An /api path reaches the page renderer only when a route exists for another method (unknown paths hit
 * api/[...path].ts): answer a JSON 405, never the app shell with a 200.
 */
export default defineNitroPlugin((nitroApp) => {
  nitroApp.hooks.hook('render:before', ({ event }) => {
    if (!event.path.startsWith('/api/')) return
    throw createError({ statusCode: 405, statusMessage: 'Method Not Allowed', message: `Method ${event.method} is not allowed on ${event.path.split('?')[0]}` })
  })
})
