import type { Viewer } from '../../access'
import type { AppSettings } from '../../settings'
import type { AgentTool } from '../tools'
import { reportTools } from './reports'

/** The tools offered to the model for this user: each agent's, when the admin has it on and the user may use it. */
export async function offeredTools(user: Viewer, settings: AppSettings): Promise<AgentTool[]> {
  return settings.agents.reports ? reportTools(user) : []
}
