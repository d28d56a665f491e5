import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { expectFieldError } from '../support/auth'
import { Client, DEMO, GOOD_PASSWORD, type Reply, uniqueEmail } from '../support/http'
import { ownServer, sqlRun } from './admin-support'

// API.md "Conventions": bad input is never a 500, and neither is a request that loses a race with a delete. Each
// write below answered 500 when what it points at (its caller, a report, a recipient, a role, a system prompt, the
// target of a move) was deleted between the route's checks and its write: the foreign key refused the write
// (SQLite's SQLITE_CONSTRAINT_FOREIGNKEY, PostgreSQL's 23503), or on PostgreSQL the write and the user's deletion
// deadlocked. Each now answers what the same request a moment later gets (404, 400 naming the field, 401).
// On a server of their own: they delete system prompts, roles and users, some straight in the database.

let own: Awaited<ReturnType<typeof ownServer>>
let admin: Client
beforeAll(async () => {
  own = await ownServer()
  admin = new Client(own.url)
  await admin.login(DEMO.admin.email, DEMO.admin.password)
})
afterAll(async () => { await own?.stop() })

const sql = <T = Record<string, unknown>>(text: string, params: unknown[]) => sqlRun<T>(text, params, own.dbUrl)
const countOf = async (text: string, params: unknown[]) => Number((await sql<{ n: number | string }>(text, params))[0]!.n)

/** A user made by the admin on the own server, signed in. */
async function makeUser(role: 'supervisor' | 'worker', prefix: string) {
  const email = uniqueEmail(prefix)
  const res = await admin.post('/api/admin/users', { email, fullName: `Prueba ${prefix}`, role, password: GOOD_PASSWORD, mustChangePassword: false })
  if (res.status !== 201) throw new Error(`create ${role} → ${res.status} ${res.text}`)
  const client = new Client(own.url)
  await client.login(email, GOOD_PASSWORD)
  return { id: res.body.user.id as string, email, client }
}

describe('a write whose reference was deleted behind a cache', () => {
  it('POST /api/chat with a system prompt deleted behind the chat\'s copy of the prompts → 400 naming systemPromptId', async () => {
    const { client } = await makeUser('worker', 'race-chat')
    const prompt = (await admin.post('/api/admin/system-prompts', { name: `Borrado ${Date.now()}`, content: 'Breve.' })).body
    // a chat reads the prompts (the model server is down in these tests: 503, the message saved), so the chat keeps
    // a copy of them; another app process then deletes the prompt, which this process's copy does not hear of
    expect((await client.post('/api/chat', { message: 'hola', systemPromptId: prompt.id })).status).toBe(503)
    await sql('delete from system_prompts where id = ?', [prompt.id])
    const res = await client.post('/api/chat', { message: 'hola', systemPromptId: prompt.id })
    expectFieldError(res, 'systemPromptId')
    expect(res.body.message).toBe('systemPromptId: no such system prompt')
    // the conversation it would have opened does not exist: only the first chat's is there
    expect((await client.get('/api/conversations')).body.total).toBe(1)
  })

  it('a caller deleted while their sign-in is still remembered gets 401 on every write, never 500', async () => {
    const gone = await makeUser('worker', 'race-gone')
    const other = await makeUser('worker', 'race-other')
    // the sign-in is remembered (AUTH_CACHE_MS) from this request on; the account is then deleted by another process
    expect((await gone.client.get('/api/auth/me')).status).toBe(200)
    await sql('delete from sessions where user_id = ?', [gone.id])
    await sql('delete from users where id = ?', [gone.id])
    const writes: Array<[string, Promise<Reply>]> = [
      ['POST /api/conversations', gone.client.post('/api/conversations', {})],
      ['POST /api/reports', gone.client.post('/api/reports', { title: 'Falla', content: 'Detalle' })],
      ['POST /api/messages', gone.client.post('/api/messages', { recipientId: other.id, content: 'hola' })],
      ['POST /api/auth/tokens', gone.client.post('/api/auth/tokens', { name: 'script', password: GOOD_PASSWORD })],
      ['PUT /api/auth/me', gone.client.put('/api/auth/me', { bio: 'nueva' })],
      ['POST /api/chat', gone.client.post('/api/chat', { message: 'hola' })],
      ['POST /api/auth/2fa/setup', gone.client.post('/api/auth/2fa/setup', { password: GOOD_PASSWORD })],
      ['PUT /api/auth/password', gone.client.put('/api/auth/password', { currentPassword: GOOD_PASSWORD, newPassword: 'otra-clave-segura-77' })],
    ]
    for (const [label, pending] of writes) {
      const res = await pending
      expect(res.status, `${label} ${res.text}`).toBe(401)
      expect(res.body.data.reason, label).toBe('not-signed-in')
    }
    // none of the writes left a row behind
    for (const [table, column] of [['conversations', 'user_id'], ['reports', 'reporter_id'], ['api_tokens', 'user_id']])
      expect(await countOf(`select count(*) as n from ${table} where ${column} = ?`, [gone.id]), table).toBe(0)
  })
})

/** Runs `ops` at once; every answer must be one of its allowed statuses, and a 400 must name the field given. */
async function race(ops: Record<string, [() => Promise<Reply>, number[], string?]>) {
  const names = Object.keys(ops)
  const answers = await Promise.all(names.map(name => ops[name]![0]()))
  answers.forEach((res, i) => {
    const [, allowed, field] = ops[names[i]!]!
    expect(allowed, `${names[i]} → ${res.status} ${res.text.slice(0, 300)}`).toContain(res.status)
    if (res.status === 400 && field) expect(res.body.data.fields, names[i]).toHaveProperty(field)
  })
  return Object.fromEntries(names.map((name, i) => [name, answers[i]!]))
}

describe('writes racing a delete', () => {
  it('deleting a user while others write about them: every answer is the one a later request gets', async () => {
    const bystander = await makeUser('worker', 'race-by')
    for (let round = 0; round < 6; round++) {
      const doomed = await makeUser('supervisor', 'race-doomed')
      const leaving = await makeUser('worker', 'race-leaving')
      const report = (await doomed.client.post('/api/reports', { title: `Falla ${round}`, content: 'Detalle' })).body
      const conversation = (await bystander.client.post('/api/conversations', { title: 'Para mover' })).body
      await race({
        'DELETE the user': [() => admin.delete(`/api/admin/users/${doomed.id}`), [204]],
        'their own POST /api/conversations': [() => doomed.client.post('/api/conversations', {}), [201, 401]],
        'their own POST /api/reports': [() => doomed.client.post('/api/reports', { title: 'Otra', content: 'Más' }), [201, 401]],
        'their own POST /api/auth/tokens': [() => doomed.client.post('/api/auth/tokens', { name: 'x', password: GOOD_PASSWORD }), [201, 401]],
        'their own PUT /api/auth/me': [() => doomed.client.put('/api/auth/me', { bio: 'hola' }), [200, 401]],
        'a sign-in as them': [() => new Client(own.url).post('/api/auth/login', { email: doomed.email, password: GOOD_PASSWORD }), [200, 401]],
        'staff comment with status on their report': [() => admin.post(`/api/reports/${report.id}/comments`, { content: 'Revisando', status: 'in_progress' }), [201, 404]],
        'staff resolve of their report': [() => admin.put(`/api/reports/${report.id}/resolve`, { comment: 'Listo' }), [200, 404]],
        'a message to them': [() => bystander.client.post('/api/messages', { recipientId: doomed.id, content: 'hola' }), [201, 400], 'recipientId'],
        'moving a conversation to them': [() => admin.patch(`/api/admin/conversations/${conversation.id}/reassign`, { targetUserId: doomed.id }), [200, 400], 'targetUserId'],
        'a worker put under them': [() => admin.patch(`/api/admin/users/${bystander.id}`, { supervisorId: doomed.id }), [200, 400], 'supervisorId'],
        'their roles set': [() => admin.put(`/api/admin/users/${doomed.id}/roles`, { roleIds: [] }), [200, 404]],
        'their name changed': [() => admin.patch(`/api/admin/users/${doomed.id}`, { fullName: 'Otro Nombre' }), [200, 404]],
        'their number set': [() => admin.post(`/api/admin/users/${doomed.id}/phone`, { phone: `+5691${String(Date.now()).slice(-7)}` }), [200, 404]],
        'another user deleted with them as heir': [() => admin.delete(`/api/admin/users/${leaving.id}?transferTo=${doomed.id}`), [204, 400], 'transferTo'],
      })
      // nothing points at the deleted user afterwards
      expect((await admin.get(`/api/admin/users/${doomed.id}`)).status).toBe(404)
      expect(await countOf('select count(*) as n from conversations where user_id = ?', [doomed.id])).toBe(0)
      expect(await countOf('select count(*) as n from reports where reporter_id = ?', [doomed.id])).toBe(0)
      await admin.patch(`/api/admin/users/${bystander.id}`, { supervisorId: null })
    }
  }, 120_000)

  it('deleting a role, a system prompt or a report while it is being used', async () => {
    const holder = await makeUser('worker', 'race-holder')
    for (let round = 0; round < 6; round++) {
      const reporter = await makeUser('worker', 'race-rep')
      const role = (await admin.post('/api/admin/roles', { name: `Carrera ${Date.now()} ${round}`, permissions: ['audit.read'] })).body
      const prompt = (await admin.post('/api/admin/system-prompts', { name: `Carrera ${Date.now()} ${round}`, content: 'Breve.' })).body
      const report = (await reporter.client.post('/api/reports', { title: 'Falla', content: 'Detalle' })).body
      const answers = await race({
        'DELETE the role': [() => admin.delete(`/api/admin/roles/${role.id}`), [204, 409]],
        'the role given to someone': [() => admin.put(`/api/admin/users/${holder.id}/roles`, { roleIds: [role.id] }), [200, 400], 'roleIds'],
        'the role renamed': [() => admin.patch(`/api/admin/roles/${role.id}`, { description: 'Nueva' }), [200, 404]],
        'DELETE the prompt': [() => admin.delete(`/api/admin/system-prompts/${prompt.id}`), [204]],
        'a conversation with the prompt': [() => holder.client.post('/api/conversations', { systemPromptId: prompt.id }), [201, 400], 'systemPromptId'],
        'DELETE the reporter (and the report)': [() => admin.delete(`/api/admin/users/${reporter.id}`), [204]],
        'a staff comment on the report': [() => admin.post(`/api/reports/${report.id}/comments`, { content: 'Visto', status: 'resolved' }), [201, 404]],
        'the report resolved': [() => admin.put(`/api/reports/${report.id}/resolve`, {}), [200, 404]],
      })
      // "still assigned → 409" exactly when the assignment came first
      if (answers['DELETE the role']!.status === 409) expect(answers['the role given to someone']!.status).toBe(200)
      await admin.put(`/api/admin/users/${holder.id}/roles`, { roleIds: [] })
      if (answers['DELETE the role']!.status === 409) expect((await admin.delete(`/api/admin/roles/${role.id}`)).status).toBe(204)
    }
  }, 120_000)
})
