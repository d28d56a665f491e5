import { describe, expect, it } from 'vitest'
import { answerReserve, buildContext, cleanTitle, type ContextMessage, estimateTokens, titleFromMessage } from '../../server/services/context'

const turn = (i: number, chars = 40): ContextMessage[] => [
  { role: 'user', content: `q${i}`.padEnd(chars, '.') },
  { role: 'assistant', content: `a${i}`.padEnd(chars, '.') },
]
const history = (n: number, chars = 40) => Array.from({ length: n }, (_, i) => turn(i, chars)).flat()

describe('context window', () => {
  it('puts the system prompt first and keeps the whole history when it fits', () => {
    const h = [...history(2), { role: 'user' as const, content: 'última' }]
    const out = buildContext('Eres un asistente.', h, { numCtx: 4096, historyMessages: 20 })
    expect(out[0]).toEqual({ role: 'system', content: 'Eres un asistente.' })
    expect(out.slice(1)).toEqual(h)
  })

  it('keeps at most historyMessages, the newest ones', () => {
    const h = [...history(10), { role: 'user' as const, content: 'última' }]
    const out = buildContext(null, h, { numCtx: 100_000, historyMessages: 5 })
    // 5 newest would start with an assistant turn, which is dropped
    expect(out.map(m => m.content.slice(0, 2))).toEqual(['q8', 'a8', 'q9', 'a9', 'úl'])
  })

  it('drops the oldest messages that do not fit numCtx (≈ 4 chars per token, minus the answer reserve)', () => {
    const numCtx = 1024
    const h = [...history(20, 400), { role: 'user' as const, content: 'x'.repeat(400) }]
    const out = buildContext('s'.repeat(100), h, { numCtx, historyMessages: 500 })
    const used = out.reduce((sum, m) => sum + estimateTokens(m.content), 0)
    expect(used).toBeLessThanOrEqual(numCtx - answerReserve(numCtx))
    expect(out.length).toBeLessThan(h.length)
    expect(out.at(-1)!.content).toBe('x'.repeat(400))
    expect(out[1]!.role).toBe('user')
  })

  it('always keeps the message being answered, even when it alone is over budget', () => {
    const out = buildContext('sys', [...history(3), { role: 'user', content: 'y'.repeat(50_000) }], { numCtx: 512, historyMessages: 20 })
    expect(out.map(m => m.role)).toEqual(['system', 'user'])
  })

  it('skips empty messages (an answer that failed before its first token)', () => {
    const out = buildContext(null, [{ role: 'user', content: 'a' }, { role: 'assistant', content: '' }, { role: 'user', content: 'b' }], { numCtx: 4096, historyMessages: 20 })
    expect(out.map(m => m.content)).toEqual(['a', 'b'])
  })
})

describe('titles', () => {
  it('cleans a model-proposed title', () => {
    expect(cleanTitle('"Receta de empanadas."\nMás texto')).toBe('Receta de empanadas')
    expect(cleanTitle('Título: **Plan de mantención**')).toBe('Plan de mantención')
    expect(cleanTitle('   \n  ')).toBeNull()
    expect(cleanTitle('x'.repeat(200))!.length).toBeLessThanOrEqual(60)
  })

  it('falls back to the first words of the message', () => {
    expect(titleFromMessage('¿Cómo calculo   el consumo eléctrico de una bomba trifásica?')).toBe('¿Cómo calculo el consumo eléctrico de…')
    expect(titleFromMessage('Hola')).toBe('Hola')
    expect(titleFromMessage('a'.repeat(300)).length).toBeLessThanOrEqual(60)
  })
})
