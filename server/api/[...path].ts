// Unknown API paths answer JSON 404 instead of falling through to the app shell.
export default defineEventHandler((event) => {
  throw createError({ statusCode: 404, message: `No route ${event.method} ${event.path.split('?')[0]}` })
})
