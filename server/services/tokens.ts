import { and, count, desc, eq } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import { useDb } from '../db/client'
import { apiTokens } from '../db/schema'

const TOKEN_PREFIX = 'ea_'
/** Most tokens one user may hold at once. */
export const MAX_TOKENS_PER_USER = 50

// one user's token creations one at a time in this process: the cap is a count and then an insert
const oneCreate = keyedQueue()

/** A personal API token; the secret is returned here once and only its hash is kept. 409 past the cap. */
export const createToken = (userId: string, name: string, expiresInDays?: number) => oneCreate(userId, () => insertToken(userId, name, expiresInDays))

async function insertToken(userId: string, name: string, expiresInDays?: number) {
  const [held] = await useDb().select({ n: count() }).from(apiTokens).where(eq(apiTokens.userId, userId))
  if (Number(held?.n ?? 0) >= MAX_TOKENS_PER_USER)
    throw createError({ statusCode: 409, message: `You already have ${MAX_TOKENS_PER_USER} API tokens, the most allowed; delete one first`, data: { limit: MAX_TOKENS_PER_USER } })
  const token = TOKEN_PREFIX + randomToken()
  const now = new Date()
  const expiresAt = expiresInDays ? new Date(now.getTime() + expiresInDays * 86_400_000) : null
  const id = uuidv7()
  await useDb().insert(apiTokens).values({ id, userId, name, tokenHash: sha256(token), expiresAt, createdAt: now })
  return { id, name, token, createdAt: now, expiresAt }
}

export const listTokens = (userId: string) => useDb()
  .select({ id: apiTokens.id, name: apiTokens.name, createdAt: apiTokens.createdAt, lastUsedAt: apiTokens.lastUsedAt, expiresAt: apiTokens.expiresAt })
  .from(apiTokens).where(eq(apiTokens.userId, userId)).orderBy(desc(apiTokens.createdAt))

export async function deleteToken(userId: string, id: string) {
  const deleted = await useDb().delete(apiTokens).where(and(eq(apiTokens.id, id), eq(apiTokens.userId, userId))).returning({ id: apiTokens.id })
  return deleted.length > 0
}

/** Deletes every token of a user (password change, admin reset, logout-all, deactivation); returns how many. */
export async function revokeUserTokens(userId: string) {
  const deleted = await useDb().delete(apiTokens).where(eq(apiTokens.userId, userId)).returning({ id: apiTokens.id })
  return deleted.length
}
