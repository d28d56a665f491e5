import { Ollama } from 'ollama'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { DEFAULT_TOKENS, FakeOllama } from '../support/fake-ollama'

// The fake is only worth something if the real client accepts it: every check goes through ollama-js.
let fake: FakeOllama
let client: Ollama
beforeAll(async () => {
  fake = await new FakeOllama().start()
  client = new Ollama({ host: fake.url })
})
afterAll(async () => { await fake.close() })
beforeEach(() => { fake.reset() })

const ask = (extra: Record<string, unknown> = {}) => ({ model: 'qwen2.5:3b-instruct', messages: [{ role: 'user', content: 'Hola' }], ...extra })

describe('fake Ollama through the real ollama client', () => {
  it('answers /api/version, /api/tags and /api/show', async () => {
    expect((await client.version()).version).toBe('0.0.0-fake')
    const { models } = await client.list()
    expect(models.map(m => [m.name, m.details.family, m.details.parameter_size])).toEqual([['qwen2.5:3b-instruct', 'qwen2', '3.1B'], ['llama3.2:1b', 'llama', '1.2B']])
    expect((await client.show({ model: 'llama3.2:1b' })).details.family).toBe('llama')
    await expect(client.show({ model: 'nope' })).rejects.toMatchObject({ status_code: 404 })
  })

  it('streams the tokens and ends with a done line carrying usage; non-streaming answers in one piece', async () => {
    const parts = []
    for await (const part of await client.chat({ ...ask(), stream: true })) parts.push(part)
    expect(parts.filter(p => !p.done).map(p => p.message.content)).toEqual(DEFAULT_TOKENS)
    expect(parts.at(-1)).toMatchObject({ done: true, done_reason: 'stop', eval_count: DEFAULT_TOKENS.length, prompt_eval_count: expect.any(Number) })
    const whole = await client.chat({ ...ask(), stream: false })
    expect(whole.message.content).toBe(DEFAULT_TOKENS.join(''))
    expect(fake.chatRequests.map(r => r.body.stream)).toEqual([true, false])
  })

  it('error status, unknown model, mid-stream {error} and a dropped connection reach the client as errors', async () => {
    fake.once({ errorStatus: 503, errorMessage: 'busy' })
    await expect(client.chat({ ...ask(), stream: true })).rejects.toMatchObject({ status_code: 503, error: 'busy' })
    await expect(client.chat({ ...ask({ model: 'missing:1b' }), stream: true })).rejects.toMatchObject({ status_code: 404 })
    fake.once({ errorAfter: 2, errorMessage: 'boom' })
    const failing = async () => { for await (const _ of await client.chat({ ...ask(), stream: true })) { /* drain */ } }
    await expect(failing()).rejects.toThrow('boom')
    fake.once({ dropAfter: 2 })
    await expect(failing()).rejects.toThrow()
    expect(fake.chatRequests.at(-1)).toMatchObject({ dropped: true, aborted: false, tokensSent: 2 })
  })

  it('records a request the client aborts mid-stream, and how many tokens it had sent', async () => {
    fake.once({ tokenCount: 100, delayMs: 5 })
    const stream = await client.chat({ ...ask(), stream: true })
    let seen = 0
    await expect((async () => { for await (const _ of stream) { if (++seen === 3) stream.abort() } })()).rejects.toThrow()
    await fake.waitFor(requests => requests.some(r => r.aborted))
    expect(fake.chatRequests[0]).toMatchObject({ aborted: true, completed: false })
    expect(fake.chatRequests[0]!.tokensSent).toBeLessThan(100)
  })

  it('tokenCount, delay and first-token delay shape the stream', async () => {
    fake.set({ tokenCount: 5, delayMs: 10, firstTokenDelayMs: 100 })
    const started = Date.now()
    const stream = await client.chat({ ...ask(), stream: true })
    const firstAt = Date.now() - started
    const text: string[] = []
    for await (const part of stream) text.push(part.message.content)
    expect(firstAt).toBeGreaterThanOrEqual(95)
    expect(text.join('')).toBe('tok0 tok1 tok2 tok3 tok4 ')
    expect(Date.now() - started).toBeGreaterThanOrEqual(140)
  })

  it('a gate after N tokens holds the stream there until opened; gateFor holds only the requests it picks', async () => {
    const held = fake.gate()
    fake.set({ tokenCount: 5, gate: held.gate, gateAfter: 2 })
    const seen: string[] = []
    const done = (async () => { for await (const part of await client.chat({ ...ask(), stream: true })) seen.push(part.message.content) })()
    await expect.poll(() => fake.chatRequests[0]?.tokensSent).toBe(2)
    expect(fake.chatRequests[0]!.completed).toBe(false)
    held.open()
    await done
    expect(seen.join('')).toBe('tok0 tok1 tok2 tok3 tok4 ')

    fake.reset()
    const title = fake.gate()
    fake.set({ gateFor: body => (body.messages[0].content === 'título' ? title.gate : null) })
    const titled = client.chat({ ...ask({ messages: [{ role: 'user', content: 'título' }] }), stream: false })
    expect((await client.chat({ ...ask(), stream: false })).message.content).toBe(DEFAULT_TOKENS.join(''))
    expect(fake.chatRequests.find(r => r.body.messages[0].content === 'título')?.completed).toBe(false)
    title.open()
    expect((await titled).message.content).toBe(DEFAULT_TOKENS.join(''))
  })
})
