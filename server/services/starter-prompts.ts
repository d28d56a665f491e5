import { eq } from 'drizzle-orm'
import { useDb } from '../db/client'
import { settings } from '../db/schema'

const KEY = 'starterPrompts'

/** Shown on the empty chat until an admin writes the company's own (the chat shows them in the reader's language). */
const DEFAULTS = [
  'Resume en 5 puntos el procedimiento de bloqueo y etiquetado (LOTO).',
  'Redacta un correo para informar una falla en la subestación.',
  'Explica la diferencia entre potencia activa y reactiva.',
]

/**
 * The company's starter prompts (admin-editable; stored apart from the model settings). `builtIn`: no admin has
 * saved a list, these are the app's examples.
 */
export async function getStarterPrompts(): Promise<{ data: string[], builtIn: boolean }> {
  const [row] = await useDb().select().from(settings).where(eq(settings.key, KEY)).limit(1)
  const stored = (row?.value as { prompts?: unknown } | undefined)?.prompts
  return Array.isArray(stored) ? { data: stored.filter((p): p is string => typeof p === 'string'), builtIn: false } : { data: DEFAULTS, builtIn: true }
}

export async function saveStarterPrompts(prompts: string[]) {
  const value = { prompts }
  await useDb().insert(settings).values({ key: KEY, value }).onConflictDoUpdate({ target: settings.key, set: { value } })
  return prompts
}
