import type { ContextMessage } from '../context'

/**
 * The model layer's one interface (issue #14 "Beyond Ollama"): a backend lists its models and streams a chat.
 * Two implementations — Ollama (`ollama.ts`) and OpenAI-compatible `/v1/chat/completions` (`openai.ts`) — yield the
 * same chunks, so the orchestrator never knows which kind of server answers.
 */

/** One installed model, as `GET /api/models` shows it (`size` 0 and nulls where the server does not say). */
export interface ModelInfo { name: string, size: number, family: string | null, parameterSize: string | null }

/** A complete tool call (OpenAI's streamed `arguments` fragments already assembled and parsed). */
export interface ModelToolCall { name: string, arguments: Record<string, unknown> }

/** A tool offered to the model (the same JSON-schema shape for both wire formats). */
export interface ModelTool { type?: string, function: { name?: string, description?: string, parameters?: unknown } }

/** One piece of a streamed answer. `done` comes once, last, when the server finished normally. */
export interface ModelChunk {
  text?: string
  toolCalls?: ModelToolCall[]
  done?: { reason: string, promptTokens: number | null, completionTokens: number | null }
}

/** A streamed answer: iterate it for chunks; `abort()` closes the connection (the server stops generating). */
export interface ModelStream extends AsyncIterable<ModelChunk> { abort: () => void }

export interface ModelOptions { temperature?: number, topP?: number, numCtx?: number, maxTokens?: number }

export interface ModelChatRequest {
  model: string
  messages: ContextMessage[]
  tools?: ModelTool[]
  options?: ModelOptions
  signal: AbortSignal
}

export type BackendKind = 'ollama' | 'openai'

export interface ModelBackend {
  kind: BackendKind
  /** The server's base URL as configured (for an OpenAI-compatible one, the `/v1` base). */
  url: string
  list: (signal: AbortSignal) => Promise<ModelInfo[]>
  /** Resolves once the server accepted the request (HTTP 200); a refusal rejects with a ModelHttpError. */
  chat: (request: ModelChatRequest) => Promise<ModelStream>
}

/** The server answered with an error status (`status_code`, as ollama-js names it, so callers treat both alike). */
export class ModelHttpError extends Error {
  constructor(public status_code: number, message: string) {
    super(message)
    this.name = 'ModelHttpError'
  }
}
