import { Ollama } from 'ollama'

const clients = new Map<string, Ollama>()

/** One ollama-js client per host; the host comes from the server's configuration, never from a request. */
export function useOllama(host = useConfig().ollamaHost): Ollama {
  let client = clients.get(host)
  if (!client) clients.set(host, client = new Ollama({ host }))
  return client
}

export interface ModelInfo { name: string, size: number, family: string | null, parameterSize: string | null }

let modelsCache: { at: number, models: ModelInfo[] } | undefined
const MODELS_CACHE_MS = 10_000

function timeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([promise, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('timeout')), ms).unref())])
}

/** The models Ollama has (`/api/tags`), briefly cached; throws when Ollama cannot be reached. */
export async function listModels(): Promise<ModelInfo[]> {
  if (modelsCache && Date.now() - modelsCache.at < MODELS_CACHE_MS) return modelsCache.models
  const { models } = await timeout(useOllama().list(), 3000)
  const list = models.map(m => ({
    name: m.name,
    size: m.size,
    family: m.details?.family ?? null,
    parameterSize: m.details?.parameter_size ?? null,
  }))
  modelsCache = { at: Date.now(), models: list }
  return list
}

/** True when Ollama answers within a short time. */
export async function ollamaReachable(): Promise<boolean> {
  try { await timeout(useOllama().version(), 1500); return true }
  catch { return false }
}
