import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { resolve } from 'node:path'
import { Ollama } from 'ollama'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

// `npm run dev:fake-ollama -- --rich`: the CLI itself, answering with Markdown a newcomer can judge rendering by
const ROOT = resolve(import.meta.dirname, '../..')
let child: ChildProcess
let client: Ollama

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as { port: number }
  server.close()
  return port
}

beforeAll(async () => {
  const port = await freePort()
  child = spawn(process.execPath, [resolve(ROOT, 'node_modules/jiti/lib/jiti-cli.mjs'), 'tests/support/fake-ollama-cli.ts', '--rich'], {
    cwd: ROOT, env: { ...process.env, PORT: String(port), FAKE_DELAY_MS: '0', FAKE_FIRST_TOKEN_MS: '0' }, stdio: ['ignore', 'pipe', 'inherit'],
  })
  let out = ''
  await new Promise<void>((done, fail) => {
    child.stdout!.on('data', (chunk) => { out += chunk; if (out.includes('listening')) done() })
    child.once('exit', code => fail(new Error(`fake-ollama exited ${code}`)))
  })
  expect(out).toContain('rich Markdown')
  client = new Ollama({ host: `http://127.0.0.1:${port}` })
}, 60_000)
afterAll(() => { child?.kill() })

describe('fake-ollama --rich', () => {
  it('answers with a heading, a table with right-aligned numbers and a fenced code block', async () => {
    const answer = (await client.chat({ model: 'fake-model:latest', messages: [{ role: 'user', content: 'Muéstrame tablas' }], stream: false })).message.content
    expect(answer).toMatch(/^## /)
    expect(answer).toMatch(/\n\|---\|---\|---:\|---:\|---:\|\n/)
    expect(answer).toMatch(/```python\n[\s\S]+\n```/)
    expect(answer).toContain('«Muéstrame tablas»')
  })
})
