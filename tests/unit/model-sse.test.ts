import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseHosts } from '../../server/services/model/hosts'
import { loadConfig } from '../../server/utils/config'
import { openaiBackend, openAiChunks, toOpenAiMessages } from '../../server/services/model/openai'
import { parseSse, ToolCallAssembler } from '../../server/services/model/sse'
import { FakeOpenAi, openAiToolResultsOf } from '../support/fake-openai'

async function* pieces(...parts: string[]) { for (const p of parts) yield new TextEncoder().encode(p) }
const collect = async <T>(it: AsyncIterable<T>) => { const out: T[] = []; for await (const x of it) out.push(x); return out }

describe('SSE parser', () => {
  it('splits events on blank lines, joins data lines, drops comments and one leading space', async () => {
    const events = await collect(parseSse(pieces(': ping\n\ndata: {"a":1}\n\nevent: x\ndata:  two\ndata:lines\n\n')))
    expect(events).toEqual([{ event: 'message', data: '{"a":1}' }, { event: 'x', data: ' two\nlines' }])
  })

  it('handles CRLF and CR line ends, also split across chunks, and a last event without its blank line', async () => {
    const events = await collect(parseSse(pieces('data: a\r', '\n\r\ndata: b\r\rdata: c\r', '\r', 'data: d')))
    expect(events.map(e => e.data)).toEqual(['a', 'b', 'c', 'd'])
  })

  it('reassembles a line cut in the middle, and a UTF-8 character cut between chunks', async () => {
    const bytes = new TextEncoder().encode('data: {"t":"Copiapó ✓"}\n\n')
    const at = bytes.indexOf(0xC3) + 1 // inside "ó"
    async function* cut() { yield bytes.slice(0, 3); yield bytes.slice(3, at); yield bytes.slice(at) }
    expect(await collect(parseSse(cut()))).toEqual([{ event: 'message', data: '{"t":"Copiapó ✓"}' }])
  })
})

describe('tool call delta assembly', () => {
  it('joins argument fragments per index and parses them once the choice finishes', () => {
    const a = new ToolCallAssembler()
    a.add([{ index: 0, id: 'c0', type: 'function', function: { name: 'list_reports', arguments: '' } }])
    a.add([{ index: 1, id: 'c1', function: { name: 'get_report', arguments: '{"id":' } }])
    a.add([{ index: 0, function: { arguments: '{"status":"op' } }])
    a.add([{ index: 0, function: { arguments: 'en","limit":5}' } }, { index: 1, function: { arguments: '"r1"}' } }])
    expect(a.finish()).toEqual([
      { name: 'list_reports', arguments: { status: 'open', limit: 5 } },
      { name: 'get_report', arguments: { id: 'r1' } },
    ])
    expect(a.size).toBe(0)
  })

  it('empty or broken arguments become {} (the tool then names what is missing)', () => {
    const a = new ToolCallAssembler()
    a.add([{ index: 0, function: { name: 'a' } }, { index: 1, function: { name: 'b', arguments: '{"x": ' } }, { index: 2, function: { name: 'c', arguments: '[1]' } }])
    expect(a.finish()).toEqual([{ name: 'a', arguments: {} }, { name: 'b', arguments: {} }, { name: 'c', arguments: {} }])
  })
})

describe('OpenAI stream chunks', () => {
  const sse = (...objects: unknown[]) => pieces(...objects.map(o => `data: ${typeof o === 'string' ? o : JSON.stringify(o)}\n\n`))
  it('text, then finish reason and usage together at [DONE]', async () => {
    const chunks = await collect(openAiChunks(sse(
      { choices: [{ delta: { role: 'assistant', content: '' } }] },
      { choices: [{ delta: { content: 'Hola' } }] },
      { choices: [{ delta: { content: ' mundo' }, finish_reason: null }] },
      { choices: [{ delta: {}, finish_reason: 'length' }] },
      { choices: [], usage: { prompt_tokens: 12, completion_tokens: 2 } },
      '[DONE]',
    )))
    expect(chunks).toEqual([{ text: 'Hola' }, { text: ' mundo' }, { done: { reason: 'length', promptTokens: 12, completionTokens: 2 } }])
  })

  it('tool calls come out assembled when the choice finishes; tool_calls reads as stop', async () => {
    const chunks = await collect(openAiChunks(sse(
      { choices: [{ delta: { tool_calls: [{ index: 0, id: 'x', function: { name: 'create_report', arguments: '{"title":' } }] } }] },
      { choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: '"Falla"}' } }] } }] },
      { choices: [{ delta: {}, finish_reason: 'tool_calls' }] },
      '[DONE]',
    )))
    expect(chunks).toEqual([{ toolCalls: [{ name: 'create_report', arguments: { title: 'Falla' } }] }, { done: { reason: 'stop', promptTokens: null, completionTokens: null } }])
  })

  it('a body that ends without [DONE] or carries an error is a failure', async () => {
    await expect(collect(openAiChunks(sse({ choices: [{ delta: { content: 'a' } }] })))).rejects.toThrow(/closed the stream/)
    await expect(collect(openAiChunks(sse({ error: { message: 'CUDA out of memory' } })))).rejects.toThrow(/CUDA out of memory/)
  })

  it('our tool rounds become OpenAI messages with ids linking each result to its call', () => {
    const messages = toOpenAiMessages([
      { role: 'user', content: 'q' },
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'a', arguments: { x: 1 } } }, { function: { name: 'b', arguments: {} } }] },
      { role: 'tool', content: '{"r":1}', tool_name: 'a' },
      { role: 'tool', content: '{"r":2}', tool_name: 'b' },
    ])
    expect(messages[1]).toEqual({ role: 'assistant', content: null, tool_calls: [
      { id: 'call_0', type: 'function', function: { name: 'a', arguments: '{"x":1}' } },
      { id: 'call_1', type: 'function', function: { name: 'b', arguments: '{}' } },
    ] })
    expect(messages.slice(2)).toEqual([{ role: 'tool', tool_call_id: 'call_0', content: '{"r":1}' }, { role: 'tool', tool_call_id: 'call_1', content: '{"r":2}' }])
    expect(openAiToolResultsOf({ messages })).toEqual([{ name: 'a', result: { r: 1 } }, { name: 'b', result: { r: 2 } }])
  })
})

describe('OLLAMA_HOSTS entries', () => {
  it('plain URLs are Ollama, openai+ URLs are OpenAI-compatible; empty falls back to OLLAMA_HOST', () => {
    expect(parseHosts('http://a:11434/, openai+http://gpu1:8000/v1', 'http://x:1')).toEqual([
      { kind: 'ollama', url: 'http://a:11434' },
      { kind: 'openai', url: 'http://gpu1:8000/v1' },
    ])
    expect(parseHosts('', 'http://x:1/')).toEqual([{ kind: 'ollama', url: 'http://x:1' }])
    expect(() => parseHosts('a:11434', 'http://x:1')).toThrow(/a:11434/)
    expect(() => parseHosts('openai+ftp://h/v1', 'http://x:1')).toThrow(/http or https/)
  })

  it('the configuration names a bad OLLAMA_HOSTS without echoing it (it may carry a password); the key is optional', () => {
    const base = { SESSION_SECRET: 'x'.repeat(32) }
    expect(loadConfig(base).modelHosts).toEqual([{ kind: 'ollama', url: 'http://127.0.0.1:11434' }])
    const c = loadConfig({ ...base, OLLAMA_HOSTS: 'http://a:1,openai+http://u:p@b:2/v1', OPENAI_API_KEY: 'sk-1', MODEL_CHECK_MS: '500' })
    expect(c.modelHosts).toEqual([{ kind: 'ollama', url: 'http://a:1' }, { kind: 'openai', url: 'http://u:p@b:2/v1' }])
    expect(c.openaiApiKey).toBe('sk-1')
    expect(c.modelCheckMs).toBe(500)
    expect(() => loadConfig({ ...base, OLLAMA_HOSTS: 'http://a:1,secret@nohost' })).toThrow(/^invalid configuration: OLLAMA_HOSTS .*secret@nohost.*\(got "…"\)$/)
    expect(() => loadConfig({ ...base, MODEL_CHECK_MS: '5' })).toThrow(/MODEL_CHECK_MS must be at least 100/)
  })
})

describe('OpenAI backend against the fake (real HTTP)', () => {
  let fake: FakeOpenAi
  beforeAll(async () => { fake = await new FakeOpenAi({ apiKey: 'sk-test' }).start() })
  afterAll(async () => { await fake.close() })

  it('lists models and streams with the key; 401 without it', async () => {
    const signal = new AbortController().signal
    const good = openaiBackend(fake.url, 'sk-test')
    expect((await good.list(signal)).map(m => m.name)).toEqual(['qwen2.5:3b-instruct', 'llama3.2:1b'])
    const stream = await good.chat({ model: 'llama3.2:1b', messages: [{ role: 'user', content: 'hola' }], signal })
    const chunks = await collect(stream)
    expect(chunks.map(c => c.text ?? '').join('')).toBe('Hola, soy un modelo de prueba.')
    expect(chunks.at(-1)!.done).toMatchObject({ reason: 'stop', completionTokens: 8, promptTokens: expect.any(Number) })
    expect(fake.chatRequests.at(-1)!.body).toMatchObject({ stream: true, stream_options: { include_usage: true } })
    await expect(openaiBackend(fake.url).list(signal)).rejects.toMatchObject({ status_code: 401, message: expect.stringMatching(/API key/) })
    expect(fake.unauthorized).toBe(1)
  })

  it('abort closes the connection; the fake sees the request aborted', async () => {
    fake.once({ tokenCount: 200, delayMs: 10 })
    const stream = await openaiBackend(fake.url, 'sk-test').chat({ model: 'llama3.2:1b', messages: [{ role: 'user', content: 'larga' }], signal: new AbortController().signal })
    let n = 0
    await expect((async () => { for await (const c of stream) if (c.text && ++n === 3) stream.abort() })()).rejects.toThrow()
    await fake.waitFor(requests => requests.some(r => r.aborted))
    expect(fake.chatRequests.at(-1)!.tokensSent).toBeLessThan(200)
  })

  it('an HTTP error before the stream is a ModelHttpError with the server message', async () => {
    const port = await new Promise<number>((ok) => {
      const s = createServer((_, res) => { res.writeHead(503, { 'content-type': 'text/plain' }); res.end('overloaded') })
      s.listen(0, '127.0.0.1', () => { ok((s.address() as AddressInfo).port); s.unref() })
    })
    await expect(openaiBackend(`http://127.0.0.1:${port}/v1`).chat({ model: 'm', messages: [], signal: new AbortController().signal }))
      .rejects.toMatchObject({ status_code: 503, message: 'overloaded' })
  })
})
