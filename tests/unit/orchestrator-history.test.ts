import { describe, expect, it } from 'vitest'
import type { Message } from '../../server/db/schema'
import { buildContext } from '../../server/services/context'
import { historyMessages, type ToolRecord, toolMessageContent } from '../../server/services/orchestrator/tools'

let n = 0
const row = (role: Message['role'], content: string): Message => ({
  id: `m${++n}`, conversationId: 'c', role, authorId: role === 'user' ? 'u' : null, content, status: 'complete', model: null,
  promptTokens: null, completionTokens: null, firstTokenMs: null, durationMs: null, createdAt: new Date(n * 1000),
})
const toolRow = (round: number, name: string, args: Record<string, unknown>, result: unknown) =>
  row('tool', toolMessageContent({ id: 'x', at: new Date(), round, name, arguments: args, ok: true, result } as ToolRecord))

describe('history with tool calls (Ollama wire format)', () => {
  it('turns each round of saved tool rows into one assistant message with tool_calls, then one tool message per result', () => {
    const out = historyMessages([
      row('user', '¿cómo van mis reportes?'),
      toolRow(0, 'list_my_reports', {}, { total: 1 }),
      toolRow(0, 'get_report', { id: 'r1' }, { id: 'r1' }),
      toolRow(1, 'list_my_reports', { status: 'open' }, { total: 0 }),
      row('assistant', 'Tienes 1 reporte.'),
      row('user', 'gracias'),
    ])
    expect(out.map(m => m.role)).toEqual(['user', 'assistant', 'tool', 'tool', 'assistant', 'tool', 'assistant', 'user'])
    expect(out[1]!.tool_calls).toEqual([
      { function: { name: 'list_my_reports', arguments: {} } },
      { function: { name: 'get_report', arguments: { id: 'r1' } } },
    ])
    expect(out[2]).toEqual({ role: 'tool', content: '{"total":1}', tool_name: 'list_my_reports' })
    expect(out[5]).toEqual({ role: 'tool', content: '{"total":0}', tool_name: 'list_my_reports' })
  })

  it('skips a tool row whose content is not a saved call', () => {
    expect(historyMessages([row('user', 'hola'), row('tool', 'not json'), row('assistant', 'ok')]).map(m => m.role)).toEqual(['user', 'assistant'])
  })

  it('a history cut never starts inside a tool round: it starts at a user message', () => {
    const history = historyMessages([
      row('user', 'q1'),
      toolRow(0, 'list_my_reports', {}, { total: 1 }),
      row('assistant', 'a1'),
      row('user', 'q2'),
    ])
    // room for 3 messages: tool result, answer, question → the leading tool message and answer are dropped
    const out = buildContext(null, history, { numCtx: 100_000, historyMessages: 3 })
    expect(out.map(m => m.role)).toEqual(['user'])
    const all = buildContext(null, history, { numCtx: 100_000, historyMessages: 10 })
    expect(all.map(m => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'user'])
    // an assistant message that only calls tools (empty content) is kept
    expect(all[1]!.tool_calls).toHaveLength(1)
  })
})
