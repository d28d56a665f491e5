import type { IncomingMessage } from 'node:http'
import type { H3Event } from 'h3'
import * as v from 'valibot'
import { Id } from '#shared/schemas'
import { textProblem } from '#shared/text'

/** Largest JSON body any route accepts; chat messages are far smaller. */
export const MAX_BODY_BYTES = 256 * 1024

/**
 * An error about one named field: the message reads "field: problem" (for people and curl) and `data.fields`
 * carries the same pair, so clients never parse the field out of the message. Any status: a 409 "email taken" or a
 * 404 "before: no such message" names its field the same way a 400 does.
 */
export function fieldError(field: string, problem: string, statusCode = 400, data: Record<string, unknown> = {}) {
  return createError({ statusCode, message: `${field}: ${problem}`, data: { ...data, fields: { [field]: problem } } })
}

export const bodyTooLarge = () => fieldError('body', `larger than ${MAX_BODY_BYTES} bytes`, 413)

/**
 * Reads a request body as it arrives and stops at `limit` bytes: the 413 comes as soon as the limit is passed,
 * chunked bodies included, so memory never holds more than `limit`.
 */
export function readBodyLimited(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    const cleanup = () => {
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onError)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      if (size > limit) {
        cleanup()
        chunks.length = 0
        // drop the rest unread-into-memory; the answer closes the connection
        req.resume()
        return reject(bodyTooLarge())
      }
      chunks.push(chunk)
    }
    const onEnd = () => { cleanup(); resolve(Buffer.concat(chunks)) }
    const onError = (error: Error) => { cleanup(); reject(error) }
    req.on('data', onData).on('end', onEnd).on('error', onError)
  })
}

type Schema = v.GenericSchema | v.GenericSchemaAsync

/** valibot's own wording ("Invalid key: Expected never but received …") for the cases schemas do not name. */
function plainMessage(issue: v.BaseIssue<unknown>) {
  if (!issue.message.startsWith('Invalid ')) return issue.message
  if (issue.kind === 'schema' && issue.type.endsWith('object')) {
    if (!issue.path?.length) return 'must be a JSON object'
    if (issue.expected === 'never') return 'is not a known field'
    if (issue.input === undefined) return 'is required'
  }
  return issue.message
}

/** A 400 whose message names the first bad field; `data.fields` lists every bad field. */
function validationError(issues: [v.BaseIssue<unknown>, ...v.BaseIssue<unknown>[]], where: string) {
  // no prototype: a field literally named __proto__ must be recorded like any other
  const fields: Record<string, string> = Object.create(null)
  for (const issue of issues) {
    const path = v.getDotPath(issue) ?? where
    fields[path] ??= plainMessage(issue)
  }
  const [first] = Object.entries(fields)
  return createError({ statusCode: 400, statusMessage: 'Bad Request', message: `${first![0]}: ${first![1]}`, data: { fields } })
}

/**
 * The dot path and problem of the first string (or key) holding text no database stores as sent: a NUL character
 * (PostgreSQL cannot store one) or a lone surrogate (PostgreSQL's jsonb refuses it, text columns would change it).
 */
function badText(input: unknown, path: string, depth = 0): [path: string, problem: string] | null {
  if (typeof input === 'string') {
    const problem = textProblem(input)
    return problem ? [path, problem] : null
  }
  if (!input || typeof input !== 'object' || depth > 20) return null
  for (const [key, value] of Object.entries(input)) {
    const keyProblem = textProblem(key)
    if (keyProblem) return [path, keyProblem]
    const found = badText(value, path === 'body' || path === 'query' || path === 'params' ? key : `${path}.${key}`, depth + 1)
    if (found) return found
  }
  return null
}

async function check<S extends Schema>(schema: S, input: unknown, where: string): Promise<v.InferOutput<S>> {
  const bad = badText(input, where)
  if (bad) throw fieldError(...bad)
  const result = await v.safeParseAsync(schema, input)
  if (!result.success) throw validationError(result.issues, where)
  return result.output
}

/** Reads a JSON body (413 over the limit, 400 when malformed) and validates it. */
export async function validBody<S extends Schema>(event: H3Event, schema: S): Promise<v.InferOutput<S>> {
  // the body-limit middleware has already read it (at most MAX_BODY_BYTES); this re-check costs nothing
  const raw = await readRawBody(event, 'utf8')
  if (raw && Buffer.byteLength(raw) > MAX_BODY_BYTES) throw bodyTooLarge()
  let body: unknown = {}
  if (raw && raw.trim()) {
    try { body = JSON.parse(raw) }
    catch { throw fieldError('body', 'malformed JSON') }
    // every route takes an object; valibot would read an array's indexes as unknown fields
    if (Array.isArray(body)) throw fieldError('body', 'must be a JSON object')
  }
  return check(schema, body, 'body')
}

const NoBody = v.strictObject({})
/** For a route that takes no body: none, or `{}`; any field in it is unknown (400 naming it), as on every route. */
export const noBody = async (event: H3Event) => { await validBody(event, NoBody) }

/** Query parameters; a key given more than once (`?limit=1&limit=2`) is a 400 naming it, as no route takes lists there. */
export function validQuery<S extends Schema>(event: H3Event, schema: S): Promise<v.InferOutput<S>> {
  const query = getQuery(event)
  for (const [key, value] of Object.entries(query)) if (Array.isArray(value)) throw fieldError(key, 'must be given once')
  return check(schema, query, 'query')
}

export const validParams = <S extends Schema>(event: H3Event, schema: S): Promise<v.InferOutput<S>> =>
  check(schema, getRouterParams(event, { decode: true }), 'params')

/** Route param `:id` as an opaque id; malformed → 400 naming `id`. */
export async function validId(event: H3Event, name = 'id') {
  const params = await validParams(event, v.object({ [name]: Id }))
  return params[name] as string
}
