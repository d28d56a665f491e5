import type { ApiConversation, ApiList, ApiMessage, ApiModel, ApiSystemPromptOption } from '#shared/types'
import type { StreamErrorReason } from '#shared/errors'
import { type ChatRequest, useChatStream } from '~/composables/useChatStream'
import { until } from '~/utils/until'

const MESSAGE_PAGE = 50

/** Why the last request did not produce an answer (the page turns this into words). */
export type ChatFailure =
  | { kind: 'unavailable' }
  | { kind: 'rate-limited', retryAfter: number | null }
  | { kind: 'interrupted' }
  /** `error`: the request was refused (the page words it from its status and reason); `reason`: the stream's own code. */
  | { kind: 'error', message: string, error?: ApiRequestError, reason?: StreamErrorReason }

export type ChatPhase = 'idle' | 'waiting' | 'queued' | 'streaming'

/** `queuedId`: the outbox message this exchange sends (the chat shows it as its own meanwhile). */
interface LiveExchange { conversationId: string | null, user: ApiMessage | null, answer: ApiMessage, queuedId: string | null }

/** A message typed while the server could not be reached (the outbox keeps it until `sendQueued`). */
export interface QueuedMessage { id: string, message: string, conversationId: string | null, model?: string, systemPromptId?: string, clientId?: string }
/** `kept`: the server saved the message (in `conversationId`); else `failed` says why it was refused, or it waits. */
export type QueuedOutcome = { kept: true, conversationId: string | null } | { kept: false, failed?: string }

let localIds = 0
/** `done` reasons of an answer that was cut short (API.md: the text so far is saved as `stopped`). */
const STOPPED_REASONS: ReadonlySet<string> = new Set(['stopped', 'time-limit'])

function localMessage(role: ApiMessage['role'], content: string, conversationId: string | null): ApiMessage {
  return { id: `local-${++localIds}`, conversationId: conversationId ?? '', role, content, status: 'complete', model: null, usage: null, createdAt: new Date().toISOString() }
}

/**
 * The open conversation: its messages (newest page first, older pages on demand), the answer being streamed,
 * and the choices for a new conversation. The one place that talks to POST /api/chat.
 */
export const useChatStore = defineStore('chat', () => {
  const api = useApi()
  const stream = useChatStream()
  const conversations = useConversationsStore()
  const offline = useOfflineStore()

  const conversationId = ref<string | null>(null)
  const conversation = ref<ApiConversation | null>(null)
  const history = ref<ApiMessage[]>([])
  const total = ref(0)
  const loading = ref(false)
  const loadingOlder = ref(false)
  const notFound = ref(false)
  const loadFailed = ref(false)
  /** The conversation could not be loaded because there is no server and this device has not saved it. */
  const unavailableOffline = ref(false)

  const live = ref<LiveExchange | null>(null)
  const phase = ref<ChatPhase>('idle')
  const queuePosition = ref<number | null>(null)
  const failure = ref<ChatFailure | null>(null)
  /** What Retry sends again, and for which conversation. */
  const retryRequest = ref<ChatRequest | null>(null)
  /** The composer's text; kept here so a rejected message comes back to it. */
  const draft = ref('')

  const ollama = ref<'ok' | 'down' | 'unknown'>('unknown')
  const models = ref<ApiModel[]>([])
  const systemPrompts = ref<ApiSystemPromptOption[]>([])
  const model = ref('')
  const systemPromptId = ref('')

  let stoppedAt = 0

  const busy = computed(() => phase.value !== 'idle')
  const hasOlder = computed(() => history.value.length < total.value)
  const messages = computed<ApiMessage[]>(() => {
    const exchange = live.value
    if (!exchange || exchange.conversationId !== conversationId.value) return history.value
    // reopened while streaming: the server already lists the user's message
    const user = exchange.user && !history.value.some(m => m.id === exchange.user!.id) ? [exchange.user] : []
    return [...history.value, ...user, exchange.answer]
  })
  /** The id of the message being generated, if it is in view. */
  const streamingId = computed(() => (busy.value && live.value?.conversationId === conversationId.value ? live.value.answer.id : null))
  /** The outbox message being sent now, once the chat lists it as its own message (until its exchange ends). */
  const sendingQueuedId = computed(() => live.value?.queuedId ?? null)
  const canRetry = computed(() => !!retryRequest.value && retryRequest.value.conversationId === (conversationId.value ?? undefined))
  const modelUnavailable = computed(() => ollama.value === 'down' || failure.value?.kind === 'unavailable')
  /** The last saved message is the user's and nothing answers it now (a model outage, a crash): offer an answer. */
  const unanswered = computed(() => !busy.value && !!conversationId.value && history.value.at(-1)?.role === 'user')

  /** Shows a conversation (null: a new one). Reopening the one already shown keeps its state. */
  async function open(id: string | null) {
    // the conversation a new chat just created: its messages are the live exchange (or, once it ended, the history
    // it settled into: a fast answer can end before the address names the conversation), nothing to load
    const streamingHere = !!id && live.value?.conversationId === id
    if (id === conversationId.value && (id === null || conversation.value || loading.value || streamingHere || history.value.length)) return
    conversationId.value = id
    conversation.value = null
    history.value = []
    total.value = 0
    notFound.value = false
    loadFailed.value = false
    unavailableOffline.value = false
    if (failure.value?.kind !== 'unavailable') failure.value = null
    if (!id) return
    loading.value = true
    try {
      // saved on the device as it arrives; without a network the saved copy opens instead
      const [found, page] = await offline.openConversation(id, () => Promise.all([
        api<ApiConversation>(`/api/conversations/${id}`),
        api<ApiList<ApiMessage>>(`/api/conversations/${id}/messages`, { query: { limit: MESSAGE_PAGE } }),
      ]))
      if (conversationId.value !== id) return
      conversation.value = found
      history.value = page.data
      total.value = page.total
    }
    catch (error) {
      if (conversationId.value !== id) return
      if (isApiError(error) && (error.statusCode === 404 || error.statusCode === 400)) notFound.value = true
      else loadFailed.value = true
      unavailableOffline.value = loadFailed.value && isApiError(error) && error.statusCode === 0
    }
    finally {
      if (conversationId.value === id) loading.value = false
    }
  }

  /** The page of messages before the oldest one shown. */
  async function loadOlder() {
    const id = conversationId.value
    const oldest = history.value[0]
    if (!id || !oldest || loadingOlder.value || !hasOlder.value) return
    loadingOlder.value = true
    try {
      const page = await api<ApiList<ApiMessage>>(`/api/conversations/${id}/messages`, { query: { limit: MESSAGE_PAGE, before: oldest.id } })
      if (conversationId.value !== id) return
      const known = new Set(history.value.map(m => m.id))
      history.value = [...page.data.filter(m => !known.has(m.id)), ...history.value]
      total.value = page.data.length ? page.total : history.value.length
      offline.saveMessages(id, history.value, total.value)
    }
    catch {}
    finally {
      loadingOlder.value = false
    }
  }

  async function refreshConversation(id: string) {
    try {
      const found = await api<ApiConversation>(`/api/conversations/${id}`)
      conversations.upsert(found)
      if (conversationId.value === id) conversation.value = found
    }
    catch {}
  }

  /** A conversation got a title (its first answer named it, or a rename elsewhere): the list and the open header show it. */
  function applyTitle(id: string, title: string) {
    conversations.patchLocal(id, { title })
    if (conversation.value?.id === id) conversation.value = { ...conversation.value, title }
  }

  /**
   * Streams one request into `live`; the exchange joins the history when it ends. `queuedId`: the outbox message it
   * sends (whose text, if nothing was saved, stays in the outbox instead of going back to the composer).
   */
  async function run(request: ChatRequest, user: ApiMessage | null, replaced: ApiMessage | null = null, retried = false, queuedId: string | null = null): Promise<void> {
    failure.value = null
    retryRequest.value = null
    queuePosition.value = null
    phase.value = 'waiting'
    const startedIn = conversationId.value
    const answer = localMessage('assistant', '', startedIn)
    answer.model = request.model ?? conversation.value?.model ?? null
    live.value = { conversationId: startedIn, user, answer, queuedId }
    const exchange = live.value
    let targetId = startedIn

    try {
      const result = await stream.send(request, {
        onMeta(meta) {
          targetId = exchange.conversationId = meta.conversationId
          exchange.answer.model = meta.model
          exchange.answer.conversationId = meta.conversationId
          if (exchange.user) Object.assign(exchange.user, { id: meta.userMessageId, conversationId: meta.conversationId })
          if (!startedIn && conversationId.value === null) {
            conversationId.value = meta.conversationId
            void refreshConversation(meta.conversationId)
          }
        },
        onQueue(position) {
          phase.value = 'queued'
          queuePosition.value = position
        },
        onToken(text) {
          if (phase.value !== 'streaming') { phase.value = 'streaming'; queuePosition.value = null }
          exchange.answer.content += text
        },
        // the answer carries its tool calls, as a saved answer does (API.md `message.tools`)
        onTool(call) {
          const tools = exchange.answer.tools ??= []
          const running = tools.findLast(line => line.name === call.name && line.status === 'running')
          if (call.status !== 'running' && running) Object.assign(running, call)
          else tools.push(call)
        },
        onTitle(title) {
          if (targetId) applyTitle(targetId, title)
        },
      })
      if (result.outcome === 'done') {
        exchange.answer.id = result.done.assistantMessageId
        // stopped here or on another device, or at the admin's time cap: saved as `stopped`
        if (STOPPED_REASONS.has(result.done.finishReason)) exchange.answer.status = 'stopped'
      }
      else if (result.outcome === 'stopped') {
        exchange.answer.status = 'stopped'
        stoppedAt = Date.now()
        // a stopped first exchange is still named by the server after the stream: the title comes as a live event
      }
      else {
        if (result.outcome === 'error' && result.assistantMessageId) exchange.answer.id = result.assistantMessageId
        exchange.answer.status = 'error'
        failure.value = result.outcome === 'error' ? { kind: 'error', message: result.message, reason: result.reason } : { kind: 'interrupted' }
        if (targetId) retryRequest.value = { conversationId: targetId, regenerate: true }
      }
      settle(exchange, [exchange.user, exchange.answer].filter((m): m is ApiMessage => !!m), targetId)
    }
    catch (error) {
      const e = isApiError(error) ? error : new ApiRequestError(0, String(error))
      const savedIn = (typeof e.data?.conversationId === 'string' ? e.data.conversationId : null) ?? targetId
      if (e.statusCode === 429 && Date.now() - stoppedAt < 3000 && !retried) {
        // right after a Stop the server may still be saving the stopped answer: try once more shortly
        if (live.value === exchange) live.value = null
        await new Promise(resolve => setTimeout(resolve, 800))
        return run(request, user, replaced, true, queuedId)
      }
      if (e.statusCode === 503) {
        // the server kept the user's message: show it, and let Retry ask for the answer again
        ollama.value = 'down'
        if (exchange.user && typeof e.data?.userMessageId === 'string') exchange.user.id = e.data.userMessageId
        failure.value = { kind: 'unavailable' }
        if (savedIn) {
          retryRequest.value = { conversationId: savedIn, regenerate: true }
          if (!startedIn && conversationId.value === null) {
            conversationId.value = savedIn
            void refreshConversation(savedIn)
          }
        }
        else void conversations.load()
        settle(exchange, exchange.user ? [exchange.user] : (replaced ? [replaced] : []), savedIn)
      }
      else {
        // no answer at all: the server cannot be reached (the banner says so, the outbox takes over)
        if (e.statusCode === 0) offline.markUnreachable()
        failure.value = e.statusCode === 429 ? { kind: 'rate-limited', retryAfter: e.retryAfter } : { kind: 'error', message: e.message, error: e }
        // nothing was saved: the text goes back to the composer (a queued one stays in the outbox), a replaced answer back in place
        if (!queuedId && exchange.user && !draft.value) draft.value = exchange.user.content
        settle(exchange, replaced ? [replaced] : [], targetId, false)
      }
    }
  }

  function settle(exchange: LiveExchange, saved: ApiMessage[], id: string | null, touched = true) {
    if (live.value === exchange) live.value = null
    phase.value = 'idle'
    queuePosition.value = null
    if (id && conversationId.value === id) {
      const known = new Set(history.value.map(m => m.id))
      const added = saved.filter(m => !known.has(m.id))
      history.value = [...history.value, ...added]
      total.value += added.length
      offline.saveMessages(id, history.value, total.value)
    }
    if (id && touched) conversations.patchLocal(id, { updatedAt: new Date().toISOString() })
  }

  /** Sends the composer's text (or `text`); false when there was nothing to send or an answer is running. */
  function send(text = draft.value) {
    const message = text.trim()
    if (!message || busy.value) return false
    const id = conversationId.value
    const request: ChatRequest = id
      ? { message, conversationId: id }
      : { message, model: model.value || undefined, systemPromptId: systemPromptId.value || undefined }
    draft.value = ''
    void run(request, localMessage('user', message, id))
    return true
  }

  /**
   * The composer's Send: now when the server can be reached, else into the outbox (IndexedDB), which sends it
   * when the connection is back. True when the text was taken.
   */
  function submit() {
    if (!offline.offline) return send()
    const message = draft.value.trim()
    if (!message || busy.value) return false
    useOutboxStore().enqueue({ message, conversationId: conversationId.value, model: model.value || undefined, systemPromptId: systemPromptId.value || undefined })
    draft.value = ''
    return true
  }

  /**
   * Sends a message the outbox kept while the server could not be reached: waits for an answer still running,
   * opens the message's conversation (a new one gets the model and instructions chosen when it was typed), and
   * streams the answer as for a message typed now. `kept`: the server saved it (answered, or the answer failed and
   * Retry is offered); otherwise `failed` says why it was refused, or nothing when it should simply wait.
   */
  async function sendQueued(item: QueuedMessage): Promise<QueuedOutcome> {
    const router = useRouter()
    if (!(await until(() => !busy.value, 5 * 60_000))) return { kept: false }
    const target = item.conversationId
    if (conversationId.value !== target) {
      await router.push(target ? `/chat/${target}` : '/chat')
      // the address may already be that one (the previous send's new conversation was about to get its own address
      // when this push cut that short), so the page sees no change: open it here
      if (conversationId.value !== target) void open(target)
      if (!(await until(() => conversationId.value === target && !loading.value, 20_000))) return { kept: false }
    }
    if (notFound.value) return { kept: false, failed: 'not-found' }
    if (!target) {
      if (item.model) model.value = item.model
      if (item.systemPromptId) systemPromptId.value = item.systemPromptId
    }
    // a 429 (an answer still finishing, or the rate limit) only means "later": wait as told, a few times
    for (let attempt = 0; attempt < 3; attempt++) {
      if (busy.value || conversationId.value !== target) return { kept: false }
      const request: ChatRequest = target
        ? { message: item.message, conversationId: target, clientId: item.clientId }
        : { message: item.message, model: model.value || undefined, systemPromptId: systemPromptId.value || undefined, clientId: item.clientId }
      await run(request, localMessage('user', item.message, target), null, false, item.id)
      const limited = failure.value
      if (limited?.kind !== 'rate-limited') break
      await new Promise(resolve => setTimeout(resolve, Math.min(limited.retryAfter ?? 1, 10) * 1000))
    }
    const failed = failure.value
    // a send whose answer never arrived had saved it (409 already-sent): the question is in its conversation, where an
    // unanswered one offers "Generar respuesta"
    if (failed?.kind === 'error' && failed.error?.reason === 'already-sent') {
      failure.value = null
      const savedIn = typeof failed.error.data?.conversationId === 'string' ? failed.error.data.conversationId : null
      if (savedIn && savedIn !== conversationId.value) await router.push(`/chat/${savedIn}`)
      return { kept: true, conversationId: savedIn }
    }
    if (!failed || failed.kind === 'unavailable' || canRetry.value) return { kept: true, conversationId: conversationId.value }
    // the connection went again before the server answered: the message just waits
    if (offline.offline) return { kept: false }
    return { kept: false, failed: failed.kind === 'error' ? failed.message : failed.kind }
  }

  /** Asks for a new version of the last answer. */
  function regenerate() {
    const id = conversationId.value
    const last = history.value.at(-1)
    if (!id || busy.value || last?.role !== 'assistant') return
    history.value = history.value.slice(0, -1)
    total.value--
    void run({ conversationId: id, regenerate: true }, null, last)
  }

  /** Asks for the answer to an unanswered last message (`regenerate` answers the saved question, API.md "Chat"). */
  function answer() {
    const id = conversationId.value
    if (!id || !unanswered.value) return
    void run({ conversationId: id, regenerate: true }, null)
  }

  /**
   * Edit-and-resend: the user message `messageId` takes `text`, and what came after it is replaced by a new answer
   * (the server deletes it in one transaction, API `editMessageId`).
   */
  function edit(messageId: string, text: string) {
    const id = conversationId.value
    const message = text.trim()
    const at = history.value.findIndex(m => m.id === messageId)
    if (!id || !message || busy.value || at < 0 || history.value[at]!.role !== 'user') return false
    const edited = { ...history.value[at]!, content: message }
    total.value -= history.value.length - at
    history.value = history.value.slice(0, at)
    void run({ message, conversationId: id, editMessageId: messageId }, edited).then(() => {
      // refused before anything changed (bad input, gone): show the server's copy again
      if (failure.value && failure.value.kind !== 'unavailable' && conversationId.value === id) void reload()
    })
    return true
  }

  async function reload() {
    const id = conversationId.value
    conversation.value = null
    conversationId.value = null
    await open(id)
  }

  /** Sends the failed request again (after the model server was down or an answer broke off). */
  async function retry() {
    const request = retryRequest.value
    if (!request || busy.value) return
    const last = history.value.at(-1)
    // a broken answer is replaced by the new one
    if (last?.role === 'assistant' && last.status !== 'complete') {
      history.value = history.value.slice(0, -1)
      total.value--
      return run(request, null, last)
    }
    return run(request, null)
  }

  function stop() {
    stream.stop()
  }

  async function checkHealth() {
    try {
      const health = await api<{ ollama: 'ok' | 'down' }>('/api/health')
      ollama.value = health.ollama
      if (health.ollama === 'ok' && failure.value?.kind === 'unavailable') failure.value = null
    }
    catch { ollama.value = 'unknown' }
    return ollama.value
  }

  /** Models and system prompts for the pickers of a new conversation. */
  async function loadOptions(defaultModel?: string) {
    const [modelList, prompts] = await Promise.allSettled([
      // offline, the picker offers the models the server last listed
      offline.cachedRecord(['models'], () => api<{ data: ApiModel[] }>('/api/models')),
      offline.cachedRecord(['system-prompts'], () => api<{ data: ApiSystemPromptOption[] }>('/api/system-prompts')),
    ])
    if (modelList.status === 'fulfilled') models.value = modelList.value.data
    else if (isApiError(modelList.reason) && modelList.reason.statusCode === 503) ollama.value = 'down'
    if (prompts.status === 'fulfilled') systemPrompts.value = prompts.value.data
    if (!model.value) model.value = defaultModel && models.value.some(m => m.name === defaultModel) ? defaultModel : (models.value[0]?.name ?? defaultModel ?? '')
    if (!systemPromptId.value) systemPromptId.value = systemPrompts.value.find(p => p.isDefault)?.id ?? systemPrompts.value[0]?.id ?? ''
  }

  function $reset() {
    stream.stop({ wait: false })
    conversationId.value = null
    conversation.value = null
    history.value = []
    total.value = 0
    live.value = null
    phase.value = 'idle'
    failure.value = null
    retryRequest.value = null
    draft.value = ''
    model.value = ''
    systemPromptId.value = ''
  }
  useAuthStore().onSignOut(() => { $reset(); conversations.$reset() })

  return {
    conversationId, conversation, messages, total, loading, loadingOlder, notFound, loadFailed, unavailableOffline, hasOlder,
    phase, busy, queuePosition, streamingId, sendingQueuedId, failure, canRetry, modelUnavailable, unanswered, draft,
    ollama, models, systemPrompts, model, systemPromptId,
    open, loadOlder, send, submit, sendQueued, regenerate, answer, edit, retry, stop, checkHealth, loadOptions, applyTitle, $reset,
  }
})
