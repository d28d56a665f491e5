import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { type ChatServer, ending, postChat, startChatServer } from '../support/chat'
import { lastMessageOf, offeredToolsOf, toolResultsOf } from '../support/fake-ollama'
import { Client, DEMO, GOOD_PASSWORD, uniqueEmail } from '../support/http'

// The assistant with tools (API.md "Assistant tools"): the fake model calls the report agent's tools in Ollama's
// wire format through the real client; every tool runs as the signed-in user through the reports service.

let srv: ChatServer
let admin: Client
const people: Record<'supervisor' | 'w1' | 'w2' | 'outsider', { id: string, client: Client }> = {} as never
const reportIds: Record<'w1' | 'w2' | 'outsider', string> = {} as never

const isTitleCall = (body: any) => String(body?.messages?.[0]?.content ?? '').includes('título breve')
const answerCalls = () => srv.fake.chatRequests.filter(r => !isTitleCall(r.body))
const toolEvents = (events: Array<{ event: string, data: any }>) => events.filter(e => e.event === 'tool').map(e => `${e.data.name}:${e.data.status}`)
/** The `tool` events that ended a call, as sent (`reportId` only when the call was about one report). */
const endedCalls = (events: Array<{ event: string, data: any }>) => events.filter(e => e.event === 'tool' && e.data.status !== 'running').map(e => e.data)

async function person(role: 'supervisor' | 'worker', supervisorId: string | null, name: string) {
  const email = uniqueEmail(role)
  const res = await admin.post('/api/admin/users', { email, fullName: name, role, password: GOOD_PASSWORD, supervisorId, mustChangePassword: false })
  if (res.status !== 201) throw new Error(`create ${role} → ${res.status} ${res.text}`)
  const client = new Client(srv.url)
  await client.login(email, GOOD_PASSWORD)
  return { id: res.body.user.id as string, client }
}

async function fileReport(client: Client, title: string) {
  const res = await client.post('/api/reports', { title, content: `Detalle: ${title}` })
  if (res.status !== 201) throw new Error(`report → ${res.status} ${res.text}`)
  return res.body.id as string
}

/** The fake model: calls `call` on the user's question (when tools are offered); after tool results, names what they returned. */
function script(call: (question: string) => { name: string, arguments: Record<string, unknown> } | null) {
  srv.fake.set({
    toolCalls: (body) => {
      const last = lastMessageOf(body)
      if (last?.role !== 'user') return null
      const wanted = call(last.content)
      return wanted ? [wanted] : null
    },
    reply: (body) => {
      if (isTitleCall(body)) return 'Consulta de reportes'
      const results = toolResultsOf(body)
      if (!results.length) return 'Sin herramientas.'
      return results.map(({ name, result }) => {
        if (result.error) return `${name} falló: ${result.error}.`
        if (result.reports) return `Tus reportes: ${result.reports.map((r: any) => `${r.title} (${r.status})`).join('; ') || 'ninguno'}.`
        return `${name} listo: ${JSON.stringify(result)}.`
      }).join(' ')
    },
  })
}

beforeAll(async () => {
  srv = await startChatServer()
  admin = new Client(srv.url)
  await admin.login(DEMO.admin.email, DEMO.admin.password)
  people.supervisor = await person('supervisor', null, 'Sara Supervisora')
  people.w1 = await person('worker', people.supervisor.id, 'Walter Uno')
  people.w2 = await person('worker', people.supervisor.id, 'Wanda Dos')
  people.outsider = await person('worker', null, 'Omar Otro')
  reportIds.w1 = await fileReport(people.w1.client, 'Fuga de agua en bodega 3')
  reportIds.w2 = await fileReport(people.w2.client, 'Luz quemada en pasillo norte')
  reportIds.outsider = await fileReport(people.outsider.client, 'Puerta trabada en casino')
})
afterAll(async () => { await srv?.stop() })
beforeEach(() => { srv.fake.reset() })

describe('tools offered', () => {
  it('a worker is offered list_my_reports, get_report and create_report; staff also update_report_status', async () => {
    script(() => null)
    expect((await postChat(people.w1.client, { message: 'hola' })).status).toBe(200)
    expect(offeredToolsOf(answerCalls()[0]!.body).sort()).toEqual(['create_report', 'get_report', 'list_my_reports'])
    srv.fake.reset()
    script(() => null)
    expect((await postChat(people.supervisor.client, { message: 'hola' })).status).toBe(200)
    expect(offeredToolsOf(answerCalls()[0]!.body).sort()).toEqual(['create_report', 'get_report', 'list_my_reports', 'update_report_status'])
    // the wire format Ollama expects: a function with a JSON-schema parameters object
    const tool = answerCalls()[0]!.body.tools.find((t: any) => t.function.name === 'update_report_status')
    expect(tool).toMatchObject({ type: 'function', function: { parameters: { type: 'object', required: ['id', 'status'] } } })
  })

  it('with the admin setting agents.reports off no tools are offered; on again they are', async () => {
    script(() => null)
    const off = await admin.put('/api/admin/settings', { agents: { reports: false } })
    expect(off.status).toBe(200)
    expect(off.body.agents).toEqual({ reports: false })
    try {
      expect((await postChat(people.w1.client, { message: 'hola' })).status).toBe(200)
      expect('tools' in answerCalls()[0]!.body).toBe(false)
      expect((await admin.put('/api/admin/settings', { agents: { reports: 'no' } })).status).toBe(400)
    }
    finally {
      expect((await admin.put('/api/admin/settings', { agents: { reports: true } })).status).toBe(200)
    }
    srv.fake.reset()
    script(() => null)
    await postChat(people.w1.client, { message: 'hola' })
    expect(offeredToolsOf(answerCalls()[0]!.body)).toContain('list_my_reports')
  })
})

describe('report agent', () => {
  it('a worker\'s list_my_reports returns only their own reports; the stream shows the tool and the answer names them', async () => {
    script(q => /reportes/.test(q) ? { name: 'list_my_reports', arguments: {} } : null)
    const reply = await postChat(people.w1.client, { message: '¿cómo van mis reportes?' })
    expect(reply.status).toBe(200)
    expect(toolEvents(reply.events)).toEqual(['list_my_reports:running', 'list_my_reports:done'])
    // a list is about no one report: nothing to link
    expect(endedCalls(reply.events)).toEqual([{ name: 'list_my_reports', status: 'done' }])
    expect(ending(reply)!.event).toBe('done')
    expect(reply.tokens).toContain('Fuga de agua en bodega 3 (open)')
    expect(reply.tokens).not.toContain('Luz quemada')
    expect(reply.tokens).not.toContain('Puerta trabada')
    // the second model call carries the call (assistant tool_calls) and the result (a tool message)
    const second = answerCalls()[1]!.body
    const [results] = toolResultsOf(second)
    expect(results!.result.reports.map((r: any) => r.id)).toEqual([reportIds.w1])
    const caller = second.messages.at(-2)
    expect(caller).toMatchObject({ role: 'assistant', tool_calls: [{ function: { name: 'list_my_reports', arguments: {} } }] })
    expect(second.messages.at(-1)).toMatchObject({ role: 'tool', tool_name: 'list_my_reports' })
  })

  it('get_report on another worker\'s report, or with bad arguments → error result to the model, an answer to the user', async () => {
    let next: Record<string, unknown> = { id: reportIds.w2 }
    script(() => ({ name: 'get_report', arguments: next }))
    const foreign = await postChat(people.w1.client, { message: 'muéstrame ese reporte' })
    expect(toolEvents(foreign.events)).toEqual(['get_report:running', 'get_report:error'])
    // a refused call links nothing (not even the id the model asked for)
    expect(endedCalls(foreign.events)).toEqual([{ name: 'get_report', status: 'error' }])
    expect(ending(foreign)!.event).toBe('done')
    expect(toolResultsOf(answerCalls()[1]!.body)[0]!.result.error).toMatch(/not found/)
    expect(foreign.tokens).not.toContain('Luz quemada')

    for (const bad of [{}, { id: 42 }, { id: '0192f000-0000-7000-8000-000000000000' }]) {
      srv.fake.reset()
      next = bad
      script(() => ({ name: 'get_report', arguments: next }))
      const reply = await postChat(people.w1.client, { message: 'muéstrame el reporte' })
      expect(ending(reply)!.event).toBe('done')
      expect(toolEvents(reply.events)).toEqual(['get_report:running', 'get_report:error'])
      expect(toolResultsOf(answerCalls()[1]!.body)[0]!.result).toHaveProperty('error')
    }

    // their own report: the full text comes back
    srv.fake.reset()
    next = { id: reportIds.w1 }
    script(() => ({ name: 'get_report', arguments: next }))
    const own = await postChat(people.w1.client, { message: 'muéstrame mi reporte' })
    expect(toolEvents(own.events)).toEqual(['get_report:running', 'get_report:done'])
    expect(endedCalls(own.events)).toEqual([{ name: 'get_report', status: 'done', reportId: reportIds.w1 }])
    expect(toolResultsOf(answerCalls()[1]!.body)[0]!.result).toMatchObject({ id: reportIds.w1, content: 'Detalle: Fuga de agua en bodega 3' })
  })

  it('update_report_status as a worker → error result and no change; staff in scope change it, out of scope cannot', async () => {
    script(() => ({ name: 'update_report_status', arguments: { id: reportIds.w1, status: 'resolved' } }))
    const worker = await postChat(people.w1.client, { message: 'marca mi reporte como resuelto' })
    expect(toolEvents(worker.events)).toEqual(['update_report_status:running', 'update_report_status:error'])
    expect(ending(worker)!.event).toBe('done')
    expect((await people.w1.client.get(`/api/reports/${reportIds.w1}`)).body.status).toBe('open')

    srv.fake.reset()
    script(() => ({ name: 'update_report_status', arguments: { id: reportIds.outsider, status: 'resolved' } }))
    const outOfScope = await postChat(people.supervisor.client, { message: 'resuelve el reporte de Omar' })
    expect(toolEvents(outOfScope.events)).toEqual(['update_report_status:running', 'update_report_status:error'])
    expect((await people.outsider.client.get(`/api/reports/${reportIds.outsider}`)).body.status).toBe('open')

    srv.fake.reset()
    script(() => ({ name: 'update_report_status', arguments: { id: reportIds.w1, status: 'closed' } }))
    const wrongStatus = await postChat(people.supervisor.client, { message: 'cierra el reporte' })
    expect(toolEvents(wrongStatus.events)).toEqual(['update_report_status:running', 'update_report_status:error'])
    expect((await people.w1.client.get(`/api/reports/${reportIds.w1}`)).body.status).toBe('open')

    srv.fake.reset()
    script(() => ({ name: 'update_report_status', arguments: { id: reportIds.w1, status: 'in_progress', comment: 'Vamos en camino' } }))
    const staff = await postChat(people.supervisor.client, { message: 'pon en curso el reporte de Walter' })
    expect(toolEvents(staff.events)).toEqual(['update_report_status:running', 'update_report_status:done'])
    expect(endedCalls(staff.events)).toEqual([{ name: 'update_report_status', status: 'done', reportId: reportIds.w1 }])
    const after = (await people.w1.client.get(`/api/reports/${reportIds.w1}`)).body
    expect(after.status).toBe('in_progress')
    expect(after.comments.map((c: any) => [c.content, c.status, c.authorId])).toEqual([['Vamos en camino', 'in_progress', people.supervisor.id]])
    const audit = await admin.get(`/api/admin/audit?action=report.status`)
    expect(audit.body.data.some((e: any) => e.targetId === reportIds.w1 && e.actorId === people.supervisor.id)).toBe(true)
  })

  it('create_report files a report as the user', async () => {
    script(() => ({ name: 'create_report', arguments: { title: 'Derrame de aceite en taller', content: 'Junto a la prensa 2' } }))
    const reply = await postChat(people.w2.client, { message: 'quiero reportar un derrame' })
    expect(toolEvents(reply.events)).toEqual(['create_report:running', 'create_report:done'])
    const mine = (await people.w2.client.get('/api/reports')).body
    expect(mine.data.map((r: any) => r.title)).toContain('Derrame de aceite en taller')
    const filed = mine.data.find((r: any) => r.title === 'Derrame de aceite en taller')
    expect(filed.reporterId).toBe(people.w2.id)
    // it says the assistant filed it, to the reporter and to staff; one filed in the app says nothing
    expect(filed.filedVia).toBe('assistant')
    expect((await people.supervisor.client.get(`/api/reports/${filed.id}`)).body.filedVia).toBe('assistant')
    expect((await people.w2.client.get(`/api/reports/${reportIds.w2}`)).body.filedVia).toBeNull()
    expect((await people.w2.client.post('/api/reports', { title: 'Mío', content: 'x', filedVia: 'assistant' })).status).toBe(400)
    // the call's line links the report it filed, live and in the saved answer
    expect(endedCalls(reply.events)).toEqual([{ name: 'create_report', status: 'done', reportId: filed.id }])
    const conversationId = reply.events[0]!.data.conversationId
    const answer = (await people.w2.client.get(`/api/conversations/${conversationId}/messages`)).body.data.at(-1)
    expect(answer).toMatchObject({ role: 'assistant', tools: [{ name: 'create_report', status: 'done', reportId: filed.id }] })

    // text no column stores as sent (half of a character: PostgreSQL's jsonb refused it in the audit entry) is a bad
    // argument the model is told about, not a failed answer
    srv.fake.reset()
    script(() => ({ name: 'create_report', arguments: { title: 'Medio carácter \ud800', content: 'x' } }))
    const broken = await postChat(people.w2.client, { message: 'reporta esto' })
    expect(toolEvents(broken.events)).toEqual(['create_report:running', 'create_report:error'])
    expect(endedCalls(broken.events)).toEqual([{ name: 'create_report', status: 'error' }])
    expect(ending(broken)!.event).toBe('done')
    expect(toolResultsOf(answerCalls()[1]!.body)[0]!.result.error).toMatch(/half of a character/)
    expect((await people.w2.client.get('/api/reports')).body.total).toBe(mine.total)
  })

  it('at most 4 tool rounds: the fifth model call is offered no tools and its text is the answer', async () => {
    srv.fake.set({
      toolCalls: () => [{ name: 'list_my_reports', arguments: {} }],
      reply: body => (isTitleCall(body) ? 'Título' : `Respuesta tras ${toolResultsOf(body).length} herramientas`),
    })
    const reply = await postChat(people.w1.client, { message: 'dame mis reportes una y otra vez' })
    expect(ending(reply)!.event).toBe('done')
    expect(toolEvents(reply.events).filter(e => e.endsWith(':done'))).toHaveLength(4)
    const calls = answerCalls()
    expect(calls).toHaveLength(5)
    expect(calls.slice(0, 4).every(c => offeredToolsOf(c.body).length === 3)).toBe(true)
    expect('tools' in calls[4]!.body).toBe(false)
    expect(reply.tokens).toBe('Respuesta tras 4 herramientas')
  })
})

describe('tool messages', () => {
  it('are saved with the conversation, hidden from the message list unless includeTools=true, and sent back as history', async () => {
    script(q => /reportes/.test(q) ? { name: 'list_my_reports', arguments: { status: 'open' } } : null)
    const statsOfW2 = async () => {
      const stats = (await admin.get('/api/admin/stats?days=2')).body
      return { total: stats.totals.messages, w2: stats.byUser.find((u: any) => u.userId === people.w2.id)?.messages ?? 0 }
    }
    const before = await statsOfW2()
    const first = await postChat(people.w2.client, { message: '¿cómo van mis reportes?' })
    const conversationId = first.events[0]!.data.conversationId
    const listed = await people.w2.client.get(`/api/conversations/${conversationId}/messages`)
    expect(listed.body.data.map((m: any) => m.role)).toEqual(['user', 'assistant'])
    expect(listed.body.total).toBe(2)
    // the answer lists the call that led to it; the question has no `tools` key
    expect(listed.body.data[1].tools).toEqual([{ name: 'list_my_reports', status: 'done' }])
    expect(listed.body.data[0]).not.toHaveProperty('tools')
    expect((await people.w2.client.get(`/api/conversations/${conversationId}`)).body.messageCount).toBe(2)
    // the admin stats count the question and the answer, not the tool call (every row was counted before)
    expect(await statsOfW2()).toEqual({ total: before.total + 2, w2: before.w2 + 2 })
    const all = await people.w2.client.get(`/api/conversations/${conversationId}/messages?includeTools=true`)
    expect(all.body.data.map((m: any) => m.role)).toEqual(['user', 'tool', 'assistant'])
    const saved = JSON.parse(all.body.data[1].content)
    expect(saved).toMatchObject({ name: 'list_my_reports', arguments: { status: 'open' } })
    expect(saved.result.reports.map((r: any) => r.title)).toContain('Luz quemada en pasillo norte')
    expect(saved.result.reports.every((r: any) => r.reporter === 'Wanda Dos' && r.status === 'open')).toBe(true)
    expect(all.body.data[2].content).toBe(first.tokens)
    expect((await people.w2.client.get(`/api/conversations/${conversationId}/messages?includeTools=maybe`)).status).toBe(400)

    // a follow-up: the history has the question, the call, its result and the answer, in Ollama's format
    srv.fake.reset()
    script(() => null)
    await postChat(people.w2.client, { message: 'gracias', conversationId })
    const history = answerCalls()[0]!.body.messages.filter((m: any) => m.role !== 'system')
    expect(history.map((m: any) => m.role)).toEqual(['user', 'assistant', 'tool', 'assistant', 'user'])
    expect(history[1].tool_calls).toEqual([{ function: { name: 'list_my_reports', arguments: { status: 'open' } } }])
    expect(history[2].tool_name).toBe('list_my_reports')
    expect(JSON.parse(history[2].content).reports.map((r: any) => r.title)).toContain('Luz quemada en pasillo norte')
    // other people cannot read the conversation, tools included
    expect((await people.w1.client.get(`/api/conversations/${conversationId}/messages?includeTools=true`)).status).toBe(404)
    // staff in scope page them the same way
    for (const reader of [admin, people.supervisor.client]) {
      const page = (await reader.get(`/api/admin/conversations/${conversationId}/messages`)).body.data
      expect(page.map((m: any) => m.role)).toEqual(['user', 'assistant', 'user', 'assistant'])
      // only the first answer called a tool
      expect(page.map((m: any) => m.tools?.map((t: any) => t.name) ?? null)).toEqual([null, ['list_my_reports'], null, null])
      const staff = await reader.get(`/api/admin/conversations/${conversationId}/messages?includeTools=true`)
      expect(staff.body.data.map((m: any) => m.role)).toEqual(['user', 'tool', 'assistant', 'user', 'assistant'])
      expect((await reader.get(`/api/admin/conversations/${conversationId}/messages?includeTools=maybe`)).status).toBe(400)
    }
  })

  it('each answer lists its own calls on every page, its question on the page before, and a failed call as error', async () => {
    let turn = 0
    // turn 1: one list call; turn 2: none; turn 3: a refused get_report, then a list (two rounds); turn 4: get_report
    const plan: Array<Array<{ name: string, arguments: Record<string, unknown> }>> = [
      [{ name: 'list_my_reports', arguments: {} }],
      [],
      [{ name: 'get_report', arguments: { id: reportIds.outsider } }, { name: 'list_my_reports', arguments: {} }],
      [{ name: 'get_report', arguments: { id: reportIds.w2 } }],
    ]
    srv.fake.set({
      toolCalls: (body) => {
        if (lastMessageOf(body)?.role === 'user') return plan[turn - 1]!.length ? [plan[turn - 1]![0]!] : null
        // after the first call's result: the second call of a two-call turn (earlier turns' results are history)
        const messages: any[] = body.messages
        const done = messages.slice(messages.findLastIndex(m => m.role === 'user') + 1).filter(m => m.role === 'tool').length
        return done < plan[turn - 1]!.length ? [plan[turn - 1]![done]!] : null
      },
      reply: body => (isTitleCall(body) ? 'Varias consultas' : `Respuesta ${turn}`),
    })
    let conversationId: string | undefined
    for (turn = 1; turn <= plan.length; turn++) {
      const reply = await postChat(people.w2.client, { message: `pregunta ${turn}`, ...(conversationId ? { conversationId } : {}) })
      expect(ending(reply)!.event).toBe('done')
      conversationId ??= reply.events[0]!.data.conversationId
    }
    const expected = [
      [{ name: 'list_my_reports', status: 'done' }],
      undefined,
      [{ name: 'get_report', status: 'error' }, { name: 'list_my_reports', status: 'done' }],
      [{ name: 'get_report', status: 'done', reportId: reportIds.w2 }],
    ]
    const whole = (await people.w2.client.get(`/api/conversations/${conversationId}/messages`)).body.data
    expect(whole.map((m: any) => m.content)).toEqual(['pregunta 1', 'Respuesta 1', 'pregunta 2', 'Respuesta 2', 'pregunta 3', 'Respuesta 3', 'pregunta 4', 'Respuesta 4'])
    expect(whole.filter((m: any) => m.role === 'assistant').map((m: any) => m.tools)).toEqual(expected)
    // one message per page, walking back with `before`: each answer still finds its calls (its question is on the next page)
    const walked: unknown[] = []
    let before: string | undefined
    for (let i = 0; i < 8; i++) {
      const page = (await people.w2.client.get(`/api/conversations/${conversationId}/messages?limit=1${before ? `&before=${before}` : ''}`)).body.data
      expect(page).toHaveLength(1)
      if (page[0].role === 'assistant') walked.unshift(page[0].tools)
      else expect(page[0]).not.toHaveProperty('tools')
      before = page[0].id
    }
    expect(walked).toEqual(expected)
    // offset paging, two per page (question and answer together)
    const second = (await people.w2.client.get(`/api/conversations/${conversationId}/messages?limit=2&offset=2`)).body.data
    expect(second.map((m: any) => m.tools)).toEqual([undefined, expected[2]])
    // with includeTools the rows themselves are listed and answers carry no `tools`
    const rows = (await people.w2.client.get(`/api/conversations/${conversationId}/messages?includeTools=true`)).body.data
    expect(rows.filter((m: any) => m.role === 'tool')).toHaveLength(4)
    expect(rows.some((m: any) => 'tools' in m)).toBe(false)
  })

  it('are not counted by the admin stats when their conversation moves to someone else or is deleted', async () => {
    script(q => /reportes/.test(q) ? { name: 'list_my_reports', arguments: {} } : null)
    const counts = async () => {
      const stats = (await admin.get('/api/admin/stats?days=2')).body
      const of = (id: string) => stats.byUser.find((u: any) => u.userId === id)?.messages ?? 0
      return { total: stats.totals.messages, w1: of(people.w1.id), w2: of(people.w2.id) }
    }
    const before = await counts()
    const asked = await postChat(people.w2.client, { message: 'mis reportes, por favor' })
    const conversationId = asked.events[0]!.data.conversationId
    await postChat(people.w2.client, { message: '¿y ahora mis reportes?', conversationId })
    const tools = await people.w2.client.get(`/api/conversations/${conversationId}/messages?includeTools=true`)
    expect(tools.body.data.filter((m: any) => m.role === 'tool')).toHaveLength(2)
    expect(await counts()).toEqual({ total: before.total + 4, w1: before.w1, w2: before.w2 + 4 })
    expect((await admin.patch(`/api/admin/conversations/${conversationId}/reassign`, { targetUserId: people.w1.id })).status).toBe(200)
    expect(await counts()).toEqual({ total: before.total + 4, w1: before.w1 + 4, w2: before.w2 })
    expect((await admin.request(`/api/conversations/${conversationId}`, { method: 'DELETE' })).status).toBe(204)
    expect(await counts()).toEqual(before)
  })
})

describe('CHAT_HISTORY_MAX', () => {
  it('caps the history sent to the model (below the admin\'s historyMessages)', async () => {
    const own = await startChatServer({ CHAT_HISTORY_MAX: '3' })
    try {
      const client = new Client(own.url)
      await client.login(DEMO.worker.email, DEMO.worker.password)
      own.fake.set({ reply: body => (isTitleCall(body) ? 'Título' : `respuesta a ${lastMessageOf(body)!.content}`) })
      const first = await postChat(client, { message: 'p1' })
      const conversationId = first.events[0]!.data.conversationId
      await postChat(client, { message: 'p2', conversationId })
      await postChat(client, { message: 'p3', conversationId })
      const last = own.fake.chatRequests.filter(r => !isTitleCall(r.body)).at(-1)!.body
      expect(last.messages.filter((m: any) => m.role !== 'system').map((m: any) => m.content)).toEqual(['p2', 'respuesta a p2', 'p3'])
    }
    finally { await own.stop() }
  })
})
