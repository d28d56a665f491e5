// old bookmarks from the platform this app replaces
export default defineEventHandler(event => sendRedirect(event, '/chat', 301))
