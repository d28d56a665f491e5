import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type ChatServer, startChatServer } from '../support/chat'
import { Client, newWorker } from '../support/http'

let srv: ChatServer
beforeAll(async () => { srv = await startChatServer() })
afterAll(async () => { await srv?.stop() })

describe('models and system prompts', () => {
  it('GET /api/models lists what Ollama has, in API.md shape', async () => {
    const { client } = await newWorker(srv.url)
    const res = await client.get('/api/models')
    expect(res.status).toBe(200)
    expect(res.body.data).toEqual([
      { name: 'qwen2.5:3b-instruct', size: 1_929_912_432, family: 'qwen2', parameterSize: '3.1B' },
      { name: 'llama3.2:1b', size: 1_321_098_329, family: 'llama', parameterSize: '1.2B' },
    ])
    expect(srv.fake.requests.some(r => r.path === '/api/tags')).toBe(true)
  })

  it('GET /api/models → 503 when Ollama is down, 401 signed out', async () => {
    const { client } = await newWorker() // the project's server has no model server
    const res = await client.get('/api/models')
    expect(res.status).toBe(503)
    expect(res.body).toMatchObject({ statusCode: 503, message: expect.stringMatching(/model server/i) })
    expect((await new Client(srv.url).get('/api/models')).status).toBe(401)
  })

  it('GET /api/system-prompts: id, name and isDefault for any signed-in user; exactly one default; no content', async () => {
    const { client } = await newWorker(srv.url)
    const res = await client.get('/api/system-prompts')
    expect(res.status).toBe(200)
    expect(res.body.data.length).toBeGreaterThan(0)
    for (const prompt of res.body.data) expect(Object.keys(prompt).sort()).toEqual(['id', 'isDefault', 'name'])
    expect(res.body.data.filter((p: any) => p.isDefault)).toHaveLength(1)
    expect((await new Client(srv.url).get('/api/system-prompts')).status).toBe(401)
  })
})
