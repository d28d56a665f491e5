import { asc, count, eq, ne, sql } from 'drizzle-orm'
import { uuidv7 } from 'uuidv7'
import type { AdminSystemPrompt } from '#shared/admin'
import { useDb } from '../db/client'
import { type SystemPrompt, systemPrompts } from '../db/schema'
import { findSystemPrompt, systemPromptsChanged } from './system-prompts'

/**
 * System prompts as admins manage them. Invariant: exactly one default at all times — making one the default
 * unsets the others in the same statement; the default cannot be unset or deleted without a successor.
 */

export function toAdminSystemPrompt(p: SystemPrompt): AdminSystemPrompt {
  return { id: p.id, name: p.name, content: p.content, isDefault: p.isDefault, createdAt: p.createdAt.toISOString(), updatedAt: p.updatedAt.toISOString() }
}

/** Every prompt by name, or the page `limit`/`offset` of them; `total` counts them all. */
export async function listAdminSystemPrompts(page: { limit?: number, offset: number } = { offset: 0 }) {
  const rows = await useDb().select().from(systemPrompts).orderBy(asc(systemPrompts.name), asc(systemPrompts.id))
  const end = page.limit === undefined ? undefined : page.offset + page.limit
  return { total: rows.length, data: rows.slice(page.offset, end).map(toAdminSystemPrompt) }
}

export async function requireSystemPrompt(id: string) {
  const prompt = await findSystemPrompt(id)
  if (!prompt) throw createError({ statusCode: 404, message: 'System prompt not found' })
  return prompt
}

/**
 * Prompt writes of this process one at a time: "exactly one default" and "the last prompt stays" are checked and
 * written in separate statements, and deletes sent at once (each finding a successor the other deletes) left no
 * prompt at all.
 */
const oneWrite = keyedQueue()
const PROMPTS = 'system-prompts'

/** One statement, so no reader ever sees zero or two defaults. */
const makeDefault = (id: string) => useDb().update(systemPrompts).set({ isDefault: sql`(${systemPrompts.id} = ${id})` })

const promptCount = async () => Number((await useDb().select({ n: count() }).from(systemPrompts))[0]?.n ?? 0)

export const createSystemPrompt = (input: { name: string, content: string, isDefault?: boolean }) => oneWrite(PROMPTS, () => insertSystemPrompt(input))

async function insertSystemPrompt(input: { name: string, content: string, isDefault?: boolean }) {
  const now = new Date()
  const id = uuidv7()
  // the very first prompt is the default whatever was asked
  const isDefault = input.isDefault === true || (await promptCount()) === 0
  await useDb().insert(systemPrompts).values({ id, name: input.name, content: input.content, isDefault: false, createdAt: now, updatedAt: now })
  if (isDefault) await makeDefault(id)
  systemPromptsChanged()
  return (await findSystemPrompt(id))!
}

export const updateSystemPrompt = (id: string, changes: { name?: string, content?: string, isDefault?: boolean }) =>
  oneWrite(PROMPTS, async () => changeSystemPrompt(await requireSystemPrompt(id), changes))

async function changeSystemPrompt(prompt: SystemPrompt, changes: { name?: string, content?: string, isDefault?: boolean }) {
  if (changes.isDefault === false && prompt.isDefault)
    throw fieldError('isDefault', 'there must be one default; make another prompt the default instead', 409)
  const { isDefault, ...text } = changes
  await useDb().update(systemPrompts).set({ ...text, updatedAt: new Date() }).where(eq(systemPrompts.id, prompt.id))
  if (isDefault && !prompt.isDefault) await makeDefault(prompt.id)
  systemPromptsChanged()
  return (await findSystemPrompt(prompt.id))!
}

/** Deletes a prompt; deleting the default promotes the oldest other prompt; the last prompt stays (409). */
export const deleteSystemPrompt = (id: string) => oneWrite(PROMPTS, async () => removeSystemPrompt(await requireSystemPrompt(id)))

async function removeSystemPrompt(prompt: SystemPrompt) {
  const [successor] = await useDb().select().from(systemPrompts).where(ne(systemPrompts.id, prompt.id))
    .orderBy(asc(systemPrompts.createdAt), asc(systemPrompts.id)).limit(1)
  if (!successor) throw createError({ statusCode: 409, message: 'The last system prompt cannot be deleted' })
  if (prompt.isDefault) await makeDefault(successor.id)
  await useDb().delete(systemPrompts).where(eq(systemPrompts.id, prompt.id))
  systemPromptsChanged()
  return { name: prompt.name, promoted: prompt.isDefault ? successor.id : null }
}
