import type { Viewer } from '../../access'
import type { AgentTool } from '../tools'

/** The report agent's tools offered to `user` (API.md "Assistant tools"). */
export async function reportTools(_user: Viewer): Promise<AgentTool[]> {
  return []
}
