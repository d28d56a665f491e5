import type { H3Event } from 'h3'
import * as v from 'valibot'
import { Id } from '#shared/schemas'

/** Largest JSON body any route accepts; chat messages are far smaller. */
export const MAX_BODY_BYTES = 256 * 1024

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

async function check<S extends Schema>(schema: S, input: unknown, where: string): Promise<v.InferOutput<S>> {
  const result = await v.safeParseAsync(schema, input)
  if (!result.success) throw validationError(result.issues, where)
  return result.output
}

/** Reads a JSON body (413 over the limit, 400 when malformed) and validates it. */
export async function validBody<S extends Schema>(event: H3Event, schema: S): Promise<v.InferOutput<S>> {
  const declared = Number(getRequestHeader(event, 'content-length') || 0)
  if (declared > MAX_BODY_BYTES) throw createError({ statusCode: 413, message: `body: larger than ${MAX_BODY_BYTES} bytes` })
  const raw = await readRawBody(event, 'utf8')
  if (raw && Buffer.byteLength(raw) > MAX_BODY_BYTES) throw createError({ statusCode: 413, message: `body: larger than ${MAX_BODY_BYTES} bytes` })
  let body: unknown = {}
  if (raw && raw.trim()) {
    try { body = JSON.parse(raw) }
    catch { throw createError({ statusCode: 400, message: 'body: malformed JSON' }) }
    // every route takes an object; valibot would read an array's indexes as unknown fields
    if (Array.isArray(body)) throw createError({ statusCode: 400, message: 'body: must be a JSON object', data: { fields: { body: 'must be a JSON object' } } })
  }
  return check(schema, body, 'body')
}

export const validQuery = <S extends Schema>(event: H3Event, schema: S): Promise<v.InferOutput<S>> =>
  check(schema, getQuery(event), 'query')

export const validParams = <S extends Schema>(event: H3Event, schema: S): Promise<v.InferOutput<S>> =>
  check(schema, getRouterParams(event, { decode: true }), 'params')

/** Route param `:id` as an opaque id; malformed → 400 naming `id`. */
export async function validId(event: H3Event, name = 'id') {
  const params = await validParams(event, v.object({ [name]: Id }))
  return params[name] as string
}
