import { Column, is, type SQL, sql } from 'drizzle-orm'

/**
 * Keyset (cursor) paging: a page starts after the last row of the previous one, so it reads only the rows it
 * returns (an index range) and stays stable when rows are added at the top. The cursor is opaque to clients:
 * base64url JSON of the sort key of the last row.
 */
type KeyValue = string | number | boolean

/** 9999-12-31T23:59:59.999Z: the last date both databases store and JavaScript writes as ISO-8601. */
const MAX_KEY_MS = 253_402_300_799_999

const badCursor = () => fieldError('cursor', 'is not a valid cursor')

export const encodeCursor = (key: KeyValue[]) => Buffer.from(JSON.stringify(key)).toString('base64url')

/** The sort key in `cursor`, checked against the types the list sorts by (400 naming `cursor` otherwise). */
export function decodeCursor(cursor: string, types: Array<'string' | 'number' | 'boolean'>): KeyValue[] {
  let key: unknown
  try { key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) }
  catch { throw badCursor() }
  if (!Array.isArray(key) || key.length !== types.length || key.some((value, i) => typeof value !== types[i])) throw badCursor()
  if (key.some(value => typeof value === 'string' && (value.length > 500 || value.includes('\u0000')))) throw badCursor()
  // numbers in a key are dates (epoch ms) the server wrote: anything else is no cursor of ours (PostgreSQL refused
  // a date out of its range with a 500)
  if (key.some(value => typeof value === 'number' && !(Number.isSafeInteger(value) && value >= 0 && value <= MAX_KEY_MS))) throw badCursor()
  return key as KeyValue[]
}

/** 400 when a request pages both ways at once. */
export function checkPaging(page: { offset: number, cursor?: string }) {
  if (page.cursor && page.offset > 0)
    throw fieldError('cursor', 'cannot be combined with offset')
}

/**
 * Rows after `key` in a sort on `columns`, all descending (or all ascending): a row-value comparison, which
 * both dialects answer from an index on the same columns. Values go through each column's own encoding.
 */
export function after(columns: Array<Column | SQL>, key: unknown[], direction: 'desc' | 'asc' = 'desc'): SQL {
  const values = columns.map((column, i) => (is(column, Column) ? sql.param(key[i], column) : sql`${key[i]}`))
  return sql`(${sql.join(columns, sql`, `)}) ${sql.raw(direction === 'desc' ? '<' : '>')} (${sql.join(values, sql`, `)})`
}

/** One more row than the page was read to know whether another page follows. */
export function keysetPage<T>(rows: T[], limit: number, keyOf: (row: T) => KeyValue[]) {
  const data = rows.slice(0, limit)
  return { data, nextCursor: rows.length > limit ? encodeCursor(keyOf(data.at(-1)!)) : null }
}
