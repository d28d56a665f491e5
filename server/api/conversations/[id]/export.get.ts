import { ExportQuery } from '#shared/schemas'
import { auditConversationRead, requireConversation } from '../../../services/access'
import { exportConversation } from '../../../services/conversations'

export default defineEventHandler(async (event) => {
  const viewer = await requireUser(event)
  const id = await validId(event)
  const { format, tz } = await validQuery(event, ExportQuery)
  const conversation = await requireConversation(viewer, id, 'read')
  const file = await exportConversation(conversation, format, tz)
  await auditConversationRead(event, viewer, conversation)
  setResponseHeaders(event, {
    'Content-Type': file.contentType,
    'Content-Disposition': `attachment; filename="${file.filename}"; filename*=UTF-8''${rfc5987(`${file.title}.${format}`)}`,
  })
  return file.body
})

/** RFC 5987's `attr-char` leaves out `'`, `(`, `)` and `*`, which encodeURIComponent keeps. */
const rfc5987 = (text: string) => encodeURIComponent(text).replace(/['()*]/g, c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
