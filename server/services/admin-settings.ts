import * as v from 'valibot'
import { type AppSettings, AppSettingsSchema, getSettings, saveSettings } from './settings'

/** PUT /api/admin/settings accepts any subset of the settings; unknown keys are refused. */
export const SettingsUpdate = v.partial(AppSettingsSchema)

/**
 * Merges and saves an admin's settings change; the new values apply to the next chat at once.
 * `defaultModel` must be a model Ollama lists — checked when Ollama answers, accepted as typed when it is down
 * (an admin may configure the model before the model server is up).
 */
export async function updateSettings(changes: v.InferOutput<typeof SettingsUpdate>) {
  const current = await getSettings()
  if (changes.defaultModel !== undefined && changes.defaultModel !== current.defaultModel) {
    const models = await listModels([changes.defaultModel]).catch(() => null)
    if (models && !models.some(m => m.name === changes.defaultModel)) {
      const problem = `is not a model the model server has (${models.map(m => m.name).join(', ') || 'none'})`
      throw fieldError('defaultModel', problem)
    }
  }
  const next: AppSettings = { ...current, ...changes }
  const changed = (Object.keys(changes) as Array<keyof AppSettings>).filter(key => JSON.stringify(changes[key]) !== JSON.stringify(current[key]))
  await saveSettings(next)
  return { settings: next, changed }
}
