import { and, desc, eq } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import { useDb } from '../db/client'
import { apiTokens } from '../db/schema'

const TOKEN_PREFIX = 'ea_'

/** A personal API token; the secret is returned here once and only its hash is kept. */
export async function createToken(userId: string, name: string, expiresInDays?: number) {
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
