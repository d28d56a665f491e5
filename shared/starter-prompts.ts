import * as v from 'valibot'
import { maxChars } from './schemas'

/** At most this many starter prompts show on the empty chat. */
export const STARTER_PROMPTS_MAX = 6
export const STARTER_PROMPT_CHARS = 200

/**
 * The prompt the app seeds when there is none (server/services/system-prompts.ts): while it keeps this id and name,
 * the chat's picker names it in the reader's language.
 */
export const BUILT_IN_SYSTEM_PROMPT = { id: '00000000-0000-7000-8000-000000000001', name: 'Asistente general' } as const

/** `PUT /api/admin/starter-prompts`: the company's suggestions for the empty chat, in order (empty list: none). */
export const StarterPromptsBody = v.strictObject({
  prompts: v.pipe(
    v.array(v.pipe(v.string('must be strings'), v.trim(), v.minLength(1, 'must not be empty'), maxChars(STARTER_PROMPT_CHARS, `must be at most ${STARTER_PROMPT_CHARS} characters each`)), 'must be a list of strings'),
    v.maxLength(STARTER_PROMPTS_MAX, `must have at most ${STARTER_PROMPTS_MAX} entries`),
  ),
})
