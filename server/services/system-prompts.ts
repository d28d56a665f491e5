import { asc, eq } from 'drizzle-orm'
import { BUILT_IN_SYSTEM_PROMPT } from '#shared/starter-prompts'
import { useDb } from '../db/client'
import { systemPrompts } from '../db/schema'

export const DEFAULT_PROMPT = {
  name: BUILT_IN_SYSTEM_PROMPT.name,
  content: 'Eres el asistente interno de la empresa. Responde en español de Chile, de forma clara, breve y '
    + 'profesional. Si no sabes algo, dilo. No inventes datos sobre la empresa ni sus clientes. Usa Markdown '
    + 'cuando ayude (listas, tablas, bloques de código).',
}

// a fixed id makes the seed idempotent: instances starting together insert the same row, and one insert wins
const SEED_PROMPT_ID = BUILT_IN_SYSTEM_PROMPT.id

/** Seeds a Spanish default prompt when there is none, so every chat has one. */
export async function ensureDefaultSystemPrompt() {
  const [any] = await useDb().select({ id: systemPrompts.id }).from(systemPrompts).limit(1)
  if (any) return
  await useDb().insert(systemPrompts)
    .values({ id: SEED_PROMPT_ID, ...DEFAULT_PROMPT, isDefault: true, createdAt: new Date(), updatedAt: new Date() })
    .onConflictDoNothing()
}

let changes = 0
/**
 * Every write to system prompts calls this: the chat's in-process copy (server/services/chat-turn.ts) is dropped
 * at once. Other app processes keep theirs for at most its 5 s lifetime (PROMPTS_CACHE_MS).
 */
export function systemPromptsChanged() { changes++ }
/** Goes up with every change made by this process. */
export const systemPromptsVersion = () => changes

/** All prompts by name: a real promise (a drizzle query runs again on every `await`, so a cached one would not cache). */
export const listSystemPrompts = async () => await useDb().select().from(systemPrompts).orderBy(asc(systemPrompts.name))

export async function findSystemPrompt(id: string) {
  const [row] = await useDb().select().from(systemPrompts).where(eq(systemPrompts.id, id)).limit(1)
  return row
}

export async function defaultSystemPrompt() {
  const [row] = await useDb().select().from(systemPrompts).where(eq(systemPrompts.isDefault, true)).limit(1)
  return row
}
