import type { Tool, ToolCall } from 'ollama'
import { uuidv7 } from 'uuidv7'
import * as v from 'valibot'
import type { ApiToolCall } from '#shared/types'
import type { Message } from '../../db/schema'
import type { Viewer } from '../access'
import type { ContextMessage } from '../context'

/** Who a tool runs as: always the signed-in user of the turn, through the same services and scope as the API. */
export interface ToolContext { user: Viewer, channel: 'web' | 'sms' }

/** A tool the model may call: its Ollama description, its argument schema and what it does. */
export interface AgentTool {
  name: string
  description: string
  parameters: NonNullable<Tool['function']['parameters']>
  args: v.GenericSchema<unknown, Record<string, unknown>>
  run: (args: any, context: ToolContext) => Promise<unknown>
}

/** One tool call as it ran: saved as a `tool` message and sent back to the model. */
export interface ToolRecord {
  id: string
  at: Date
  round: number
  name: string
  arguments: Record<string, unknown>
  ok: boolean
  /** What the model gets back (JSON): the tool's answer, or `{error}`. */
  result: unknown
}

/** The `tools` entry of an Ollama chat request. */
export const toOllamaTool = (tool: AgentTool): Tool =>
  ({ type: 'function', function: { name: tool.name, description: tool.description, parameters: tool.parameters } })

/** Why a call failed, in words the model can relay; never a stack or SQL. */
function failure(error: unknown): string {
  const e = error as { statusCode?: number, message?: string }
  if (e?.statusCode && e.statusCode < 500) {
    if (e.statusCode === 404) return 'not found (it does not exist or the user may not see it)'
    if (e.statusCode === 403) return `not allowed: ${e.message ?? 'the user may not do this'}`
    return e.message ?? 'refused'
  }
  return 'the tool failed'
}

/**
 * Runs one call as the user. Unknown tools, bad arguments and refusals (404/403/409 from the services) become an
 * error result for the model; nothing is changed by a refused call.
 */
export async function runToolCall(offered: AgentTool[], call: { name: string, arguments: Record<string, unknown> }, context: ToolContext, round: number): Promise<ToolRecord> {
  const record: ToolRecord = { id: uuidv7(), at: new Date(), round, name: call.name, arguments: call.arguments, ok: false, result: null }
  const tool = offered.find(t => t.name === call.name)
  if (!tool) {
    record.result = { error: `unknown tool ${call.name}; available: ${offered.map(t => t.name).join(', ')}` }
    return record
  }
  const parsed = v.safeParse(tool.args, argumentsObject(call.arguments))
  if (!parsed.success) {
    const issue = parsed.issues[0]
    record.result = { error: `invalid arguments: ${v.getDotPath(issue) ?? 'arguments'}: ${issue.message}` }
    return record
  }
  try {
    record.result = await tool.run(parsed.output, context)
    record.ok = true
  }
  catch (error) {
    record.result = { error: failure(error) }
    // the name only: a database error's message can quote the arguments (report text)
    if (!(error as { statusCode?: number })?.statusCode || (error as { statusCode: number }).statusCode >= 500)
      log.error('assistant tool failed', { tool: call.name, userId: context.user.id, error: (error as Error)?.name ?? 'Error' })
  }
  return record
}

/** Ollama sends `arguments` as an object; OpenAI-style servers send a JSON string: accept both. */
function argumentsObject(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw ?? {}
  try { return JSON.parse(raw) }
  catch { return raw }
}

/** What a `tool` message stores: the call and its result, as JSON. */
export const toolMessageContent = (record: ToolRecord) =>
  JSON.stringify({ round: record.round, name: record.name, arguments: record.arguments, result: record.result })

/**
 * The one report a successful call filed, read or changed (the chat links it beside the call's line); none for a
 * list, a refused call or another tool. Read off what the report agent returns (agents/reports.ts).
 */
export function toolReportId(call: { name: string, result: unknown }, ok: boolean): string | undefined {
  if (!ok) return undefined
  const result = call.result as { id?: unknown, created?: { id?: unknown }, updated?: { id?: unknown } } | null
  const id = call.name === 'create_report' ? result?.created?.id
    : call.name === 'update_report_status' ? result?.updated?.id
      : call.name === 'get_report' ? result?.id
        : undefined
  return typeof id === 'string' ? id : undefined
}

/** A call as the stream's `tool` event and an answer's `tools` show it (API.md). */
export function toolCallLine(call: { name: string, result: unknown }, ok: boolean): ApiToolCall {
  const reportId = toolReportId(call, ok)
  return { name: call.name, status: ok ? 'done' : 'error', ...(reportId ? { reportId } : {}) }
}

interface StoredToolCall { round: number, name: string, arguments: Record<string, unknown>, result: unknown }

/** A saved `tool` message as its answer's `tools` line; null for a row that is not a stored call. */
export function storedToolLine(row: Message): ApiToolCall | null {
  const stored = parseStored(row)
  return stored ? toolCallLine(stored, row.status !== 'error') : null
}

function parseStored(message: Message): StoredToolCall | null {
  try {
    const value = JSON.parse(message.content) as StoredToolCall
    return typeof value?.name === 'string' ? value : null
  }
  catch { return null }
}

/**
 * Saved messages (oldest first) as the model must see them: each round of `tool` rows becomes one assistant
 * message carrying the `tool_calls`, followed by one `tool` message per result.
 */
export function historyMessages(rows: Message[]): ContextMessage[] {
  const out: ContextMessage[] = []
  let round: { key: number, call: ContextMessage } | null = null
  for (const row of rows) {
    if (row.role === 'user' || row.role === 'assistant') {
      round = null
      out.push({ role: row.role, content: row.content })
      continue
    }
    if (row.role !== 'tool') continue
    const stored = parseStored(row)
    if (!stored) continue
    const call: ToolCall = { function: { name: stored.name, arguments: stored.arguments ?? {} } }
    if (!round || round.key !== stored.round) {
      round = { key: stored.round, call: { role: 'assistant', content: '', tool_calls: [] } }
      out.push(round.call)
    }
    round.call.tool_calls!.push(call)
    out.push({ role: 'tool', content: JSON.stringify(stored.result), tool_name: stored.name })
  }
  return out
}
