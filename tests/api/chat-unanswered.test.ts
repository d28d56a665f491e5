import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ending, postChat, startChatServer, type ChatServer } from '../support/chat'
import { Client, newWorker } from '../support/http'

let srv: ChatServer
beforeAll(async () => { srv = await startChatServer() })
afterAll(async () => { await srv?.stop() })
beforeEach(() => { srv.fake.reset() })

const titleOf = async (client: Client, id: string) => (await client.get(`/api/conversations/${id}`)).body.title as string

// issue 13.1: a question the model never answered must not leave an unnamed "Nueva conversación" behind
describe('a first turn that gets no answer names its conversation from the question', () => {
  it('model server unreachable (503): the new conversation is titled with the first words of the message', async () => {
    // the project's shared server points at a closed port
    const { client } = await newWorker()
    const failed = await postChat(client, { message: 'Producción solar de la planta Copiapó ayer por la tarde' })
    expect(failed.status).toBe(503)
    expect(await titleOf(client, failed.json.data.conversationId)).toBe('Producción solar de la planta Copiapó…')
  })

  it('model error before the first token (503): titled from the message; a later regenerate answers without renaming it', async () => {
    const { client } = await newWorker(srv.url)
    srv.fake.once({ errorStatus: 500, errorMessage: 'out of memory' })
    const failed = await postChat(client, { message: 'Turbinas detenidas' })
    expect(failed.status).toBe(503)
    const { conversationId } = failed.json.data
    expect(await titleOf(client, conversationId)).toBe('Turbinas detenidas')

    const retry = await postChat(client, { conversationId, regenerate: true })
    expect(ending(retry)!.event).toBe('done')
    expect(retry.events.some(e => e.event === 'title')).toBe(false)
    expect(await titleOf(client, conversationId)).toBe('Turbinas detenidas')
  })

  it('an existing unnamed conversation is named on a 503; one the user already named keeps its title', async () => {
    const { client } = await newWorker()
    const unnamed = (await client.post('/api/conversations', {})).body
    const named = (await client.post('/api/conversations', { title: 'Mi título' })).body
    expect((await postChat(client, { message: 'Hola equipo', conversationId: unnamed.id })).status).toBe(503)
    expect((await postChat(client, { message: 'Hola equipo', conversationId: named.id })).status).toBe(503)
    expect(await titleOf(client, unnamed.id)).toBe('Hola equipo')
    expect(await titleOf(client, named.id)).toBe('Mi título')
  })
})
