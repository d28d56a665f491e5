import { and, eq, lt } from 'drizzle-orm'
import { driverValue, useDb } from '../db/client'
import type { Write } from '../db/group-commit'
import { clientSends, conversations, messages } from '../db/schema'

/**
 * The offline outbox gives each message it keeps an id of its own (`clientId`, a UUID made on the device) and sends
 * it with the message. When the app closes, or the network drops, after the server saved a send but before its answer
 * arrived, the outbox sends it again: the server finds the first send's result here instead of saving it twice.
 * Sends without `clientId` (everything typed online) pay nothing.
 */
export type ClientSendKind = 'chat' | 'dm' | 'report'

/**
 * What an earlier send with this `clientId` created (its id), or undefined. The same id for another kind of send is
 * a client bug, never a repeat: 409 naming `clientId`.
 */
export async function earlierSend(userId: string, clientId: string | undefined, kind: ClientSendKind): Promise<string | undefined> {
  if (!clientId) return undefined
  const [row] = await useDb().select({ kind: clientSends.kind, targetId: clientSends.targetId }).from(clientSends)
    .where(and(eq(clientSends.userId, userId), eq(clientSends.clientId, clientId))).limit(1)
  if (!row) return undefined
  if (row.kind !== kind) throw fieldError('clientId', 'was already used for another kind of send', 409)
  return row.targetId
}

const INSERT = 'insert into client_sends (user_id, client_id, kind, target_id, created_at) values (?, ?, ?, ?, ?) on conflict do nothing'

/** The record of a send, for the group commit that saves what it created (a repeat that raced it changes nothing). */
export const clientSendWrite = (userId: string, clientId: string, kind: ClientSendKind, targetId: string): Write =>
  ({ text: INSERT, args: [userId, clientId, kind, targetId, driverValue(new Date())] })

/**
 * `POST /api/chat` with the `clientId` of a question already saved: 409 `already-sent`, naming the conversation the
 * first send saved it in (null when it is no longer the caller's: deleted or reassigned since). The client opens it
 * there; an unanswered question offers "Generar respuesta" (`regenerate`).
 */
export async function refuseRepeatedChat(userId: string, clientId: string | undefined) {
  const messageId = await earlierSend(userId, clientId, 'chat')
  if (!messageId) return
  const [row] = await useDb().select({ conversationId: messages.conversationId, ownerId: conversations.userId }).from(messages)
    .innerJoin(conversations, eq(conversations.id, messages.conversationId)).where(eq(messages.id, messageId)).limit(1)
  const conversationId = row?.ownerId === userId ? row.conversationId : null
  throw createError({
    statusCode: 409,
    message: 'This message was already sent',
    data: { reason: 'already-sent', conversationId, messageId: conversationId ? messageId : null },
  })
}

/**
 * Forgets sends older than `days` (the job worker does it hourly, with finished jobs): an outbox keeps a message only
 * until the server answers, and a device offline for three months has bigger troubles than a repeat.
 */
export async function purgeClientSends(days = 90) {
  await useDb().delete(clientSends).where(lt(clientSends.createdAt, new Date(Date.now() - days * 86_400_000)))
}
