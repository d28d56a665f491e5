import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ollamaBackend } from '../../server/services/model/ollama'
import { isConnectionFailure } from '../../server/services/model/pool'
import type { ModelChunk } from '../../server/services/model/types'
import { modelErrorText } from '../../server/utils/ollama'
import { FakeOllama } from '../support/fake-ollama'

// The Ollama backend over node:http (server/services/model/node-fetch.ts) through the real `ollama` client, against
// the fake that speaks Ollama's wire format: what the pool and the chat rely on must be as with the global fetch.
let fake: FakeOllama
const model = 'qwen2.5:3b-instruct'
const ask = (signal = new AbortController().signal) => ollamaBackend(fake.url).chat({ model, messages: [{ role: 'user', content: 'hola' }], signal })
const read = async (stream: AsyncIterable<ModelChunk>) => { const out: ModelChunk[] = []; for await (const c of stream) out.push(c); return out }
const failure = (promise: Promise<unknown>) => promise.then(() => { throw new Error('expected a failure') }, (error: unknown) => error as Error & { status_code?: number })

beforeAll(async () => { fake = await new FakeOllama().start() })
afterAll(() => fake.close())
beforeEach(() => { fake.reset() })

describe('Ollama backend over node:http', () => {
  it('lists the models and streams every token, then done with the usage', async () => {
    expect((await ollamaBackend(fake.url).list(AbortSignal.timeout(5000))).map(m => m.name)).toContain(model)
    fake.set({ tokens: ['Uno', ' dos', ' tres'], delayMs: 2 })
    const chunks = await read(await ask())
    expect(chunks.map(c => c.text ?? '').join('')).toBe('Uno dos tres')
    expect(chunks.at(-1)!.done).toMatchObject({ reason: 'stop', completionTokens: 3 })
  })

  it('answers in a row on the kept-alive connection each complete', async () => {
    fake.set({ tokens: ['a', 'b'] })
    for (let i = 0; i < 5; i++) expect((await read(await ask())).map(c => c.text ?? '').join('')).toBe('ab')
    expect(fake.requests.filter(r => r.path === '/api/chat' && r.completed)).toHaveLength(5)
    // one connection for all five: each answer's socket went back to the pool (ollama-js stops reading at `done`)
    expect(fake.connections).toBeLessThanOrEqual(1)
  })

  it('a connection cut mid-answer fails the stream as a connection failure', async () => {
    fake.set({ tokenCount: 20, dropAfter: 3 })
    const error = await failure(read(await ask()))
    expect(isConnectionFailure(error)).toBe(true)
  })

  it('a refused connection is a connection failure with the socket\'s code', async () => {
    const error = await failure(ollamaBackend('http://127.0.0.1:1').chat({ model, messages: [], signal: new AbortController().signal }))
    expect(isConnectionFailure(error)).toBe(true)
    expect(modelErrorText(error)).toBe('the model server cannot be reached (ECONNREFUSED)')
  })

  it('an error status rejects with its status_code and the server\'s message', async () => {
    fake.set({ errorStatus: 404, errorMessage: 'model "x" not found' })
    const error = await failure(ask())
    expect(error.status_code).toBe(404)
    expect(error.message).toContain('model "x" not found')
  })

  it('our signal aborts a model that is still loading, with the signal\'s reason', async () => {
    fake.set({ firstTokenDelayMs: 30_000 })
    const controller = new AbortController()
    const pending = failure(ask(controller.signal))
    await fake.waitFor(requests => requests.some(r => r.path === '/api/chat'))
    controller.abort(new Error('client gone'))
    expect((await pending).message).toBe('client gone')
    await fake.waitFor(requests => requests.some(r => r.path === '/api/chat' && r.aborted))
  })

  it('our signal aborts a stream mid-answer: the reader fails with the reason and the server sees the close', async () => {
    fake.set({ tokenCount: 1000, delayMs: 5 })
    const controller = new AbortController()
    const stream = await ask(controller.signal)
    const seen: ModelChunk[] = []
    const error = await failure((async () => {
      for await (const chunk of stream) { seen.push(chunk); if (seen.length === 3) controller.abort(new Error('stopped')) }
    })())
    expect(error.message).toBe('stopped')
    expect(seen.length).toBeLessThan(1000)
    await fake.waitFor(requests => requests.some(r => r.path === '/api/chat' && r.aborted))
  })
})
