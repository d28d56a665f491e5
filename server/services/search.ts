import { type SQL, sql, type SQLWrapper } from 'drizzle-orm'
import type { ApiSnippet } from '#shared/types'
import { rawRows } from '../db/client'
import { conversations, dialect } from '../db/schema'

/**
 * Conversation search: titles by substring (accents and case folded, `%` and `_` literal), message text through
 * the full-text index of migrations 0006–0007 — SQLite FTS5 (`unicode61 remove_diacritics 2`, prefix indexes) or
 * PostgreSQL's vector of each message's Spanish stems (`energy_es`: unaccent, then the stemmer) and whole words
 * (`energy_simple`: unaccent, no stop words; migration 0012). Every word of `q` must match the start of a word of the
 * message, so a search works while it is being typed; on PostgreSQL its stem may match instead.
 */
export interface SearchTerms { titlePattern: string, words: string[] }

const MAX_WORDS = 16
const ACCENTED = 'ÁÉÍÓÚÜÑáéíóúüñ'
const PLAIN = 'aeiouunaeiouun'

/** What `plainFolded` does in the database, in JS: lower case, Spanish accents and ñ dropped. */
const plainFold = (text: string) => [...text.toLowerCase()].map(c => PLAIN[ACCENTED.indexOf(c)] ?? c).join('')

export function searchTerms(q: string): SearchTerms {
  const words = (q.normalize('NFC').match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, MAX_WORDS).map(w => w.slice(0, 64))
  return { titlePattern: plainPattern(q), words }
}

/**
 * A column as it is searched and sorted by people's text (titles, names, reports): lower case without Spanish
 * accents or ñ, the same on both databases, so that "camion" finds "Camión" and "Álvaro" sorts among the A's.
 * lower() alone folds only ASCII in SQLite and follows the collation in PostgreSQL: the accented letters by hand.
 */
export function plainFolded(column: SQLWrapper): SQL {
  if (dialect === 'pg') return sql`translate(lower(${column}), ${ACCENTED}, ${PLAIN})`
  let expr = sql`lower(${column})`
  for (const [i, c] of [...ACCENTED].entries()) expr = sql`replace(${expr}, ${c}, ${PLAIN[i]})`
  return expr
}
const foldedTitle = () => plainFolded(conversations.title)

/** `plainFolded` for hand-written SQL text (`expression` is SQL, never user input). */
export function plainFoldedText(expression: string): string {
  if (dialect === 'pg') return `translate(lower(${expression}), '${ACCENTED}', '${PLAIN}')`
  return [...ACCENTED].reduce((expr, c, i) => `replace(${expr}, '${c}', '${PLAIN[i]}')`, `lower(${expression})`)
}

/** A LIKE pattern for `plainFolded`/`plainFoldedText`: folded the same way, `%` and `_` literal. */
export const plainPattern = (q: string) => `%${plainFold(q).replace(/[\\%_]/g, c => `\\${c}`)}%`

/**
 * The full-text query: each word as a prefix, all of them required, within one owner's part of the index:
 * SQLite's index holds each message's owner in its `owner` column (migration 0006) and the query names it;
 * PostgreSQL's vector stores every lexeme behind the owner's id (migration 0009), so the query's lexemes get the
 * same prefix (`ownerTsQuery`). One user's search never reads other users' matches.
 */
const ftsQuery = (words: string[], ownerId: string) =>
  [`owner : "${ownerId.replace(/-/g, '')}"`, ...words.map(w => `content : "${w}"*`)].join(' AND ')

/**
 * PostgreSQL: every word required, each as a prefix of its Spanish stem or of itself (unaccented). The stem alone
 * fails while a word is being typed ("operacione" stems to 'operacion', longer than the stored 'oper') and is empty
 * for a stop word ("para"); the word alone would lose stemming ("renovables" finding "renovable").
 */
const wordsTsQuery = (words: string[]): SQL => sql.join(words.map(w =>
  sql`(to_tsquery('energy_es', ${`${w}:*`}) || to_tsquery('energy_simple', ${`${w}:*`}))`), sql` && `)

/** PostgreSQL: `wordsTsQuery` with each lexeme behind the owner's prefix (energy_search_vector's). */
const ownerTsQuery = (words: string[], ownerId: string): SQL =>
  sql`regexp_replace((${wordsTsQuery(words)})::text, '''([^'']+)''', ${`'${ownerId.replace(/[^0-9A-Za-z]/g, '')}.\\1'`}, 'g')::tsquery`

/** Messages of `ownerId` (tool calls excluded) whose text matches `words`, as a condition on `messages m`. */
function matchingMessages(words: string[], ownerId: string): SQL {
  return dialect === 'pg'
    ? sql`m.search_vector @@ ${ownerTsQuery(words, ownerId)} and m.role <> 'tool'`
    : sql`m.rowid in (select rowid from messages_fts where messages_fts match ${ftsQuery(words, ownerId)}) and m.role <> 'tool'`
}

/**
 * The title matches, or (when `inMessages`) any message of the conversation (all `ownerId`'s) does. With `hits`
 * (SQLite: messageHits of the same search) the matching conversations are the ones already found.
 */
export function conversationMatches(search: SearchTerms, ownerId: string, inMessages: boolean, hits?: MessageHits): SQL {
  const inTitle = sql`${foldedTitle()} like ${search.titlePattern} escape '\\'`
  if (!inMessages || search.words.length === 0) return inTitle
  if (hits) return sql`(${inTitle} or ${conversations.id} in (select value from json_each(${JSON.stringify([...hits.keys()])})))`
  return sql`(${inTitle} or ${conversations.id} in (select m.conversation_id from messages m where ${matchingMessages(search.words, ownerId)}))`
}

const START = '\u0002'
const STOP = '\u0003'

/** Turns a database excerpt with START/STOP markers into plain text and UTF-16 ranges of the matched words. */
export function markedSnippet(marked: string): ApiSnippet {
  let text = ''
  const highlights: Array<[number, number]> = []
  let start = -1
  for (const c of marked) {
    if (c === START) start = text.length
    else if (c === STOP) {
      if (start >= 0 && text.length > start) highlights.push([start, text.length])
      start = -1
    }
    // one space per line break or tab keeps the excerpt one line without moving the ranges
    else text += /[\t\n\r\v\f]/.test(c) ? ' ' : c
  }
  return { text, highlights }
}

// PostgreSQL's parser takes `<b>` and `&amp;` for markup and ts_headline drops them: they are message text here,
// so they go in as control characters and come back afterwards
const MARKUP = '<>&'
const MARKUP_STANDINS = '\u0001\u0004\u0005'
const unmasked = (text: string) => text.replace(/[\u0001\u0004\u0005]/g, c => MARKUP[MARKUP_STANDINS.indexOf(c)]!)

/** Each conversation with a matching message → the rowid of its newest matching message. */
export type MessageHits = Map<string, number>

/**
 * SQLite: the one evaluation of the full-text query per search. FTS5 answers a prefix by merging the entries of every
 * word that starts with it (all users' — prefix indexes cover only 2 and 3 letters), so a long prefix of a common
 * word costs tens of ms; the total, the page and the snippets all take their matches from here instead of asking
 * the index three times. Undefined on PostgreSQL, whose owner-prefixed index answers each of them in about a ms.
 */
export async function messageHits(ownerId: string, search: SearchTerms): Promise<MessageHits | undefined> {
  if (dialect === 'pg' || search.words.length === 0) return undefined
  // the bare rowid comes from the row with the max(): the newest matching message of each conversation
  const rows = await rawRows<{ cid: string, rid: number }>(sql`
    select m.conversation_id as cid, m.rowid as rid, max(m.created_at) as newest from messages m
    where ${matchingMessages(search.words, ownerId)} group by m.conversation_id`)
  return new Map(rows.map(r => [r.cid, Number(r.rid)]))
}

const TOKEN = /[\p{L}\p{N}\p{Co}]+/gu
/** What FTS5's `unicode61 remove_diacritics 2` does to a token: diacritics dropped, lower case. */
const foldToken = (token: string) => token.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase()

/**
 * An excerpt of `text` like FTS5's snippet(…, 24): the window of `size` tokens with the most tokens that start with
 * one of `words` (folded), `…` where text was cut, and those tokens' UTF-16 ranges as highlights.
 */
export function textSnippet(text: string, words: string[], size = 24): ApiSnippet {
  const prefixes = words.map(foldToken)
  const tokens = [...text.matchAll(TOKEN)].map(m => ({ start: m.index, end: m.index + m[0].length, hit: prefixes.some(p => foldToken(m[0]).startsWith(p)) }))
  let best = 0
  let bestHits = -1
  let inWindow = 0
  for (let i = 0; i < tokens.length; i++) {
    inWindow += Number(tokens[i]!.hit) - Number(i >= size && tokens[i - size]!.hit)
    if (i >= Math.min(size, tokens.length) - 1 && inWindow > bestHits) { bestHits = inWindow; best = Math.max(0, i - size + 1) }
  }
  const window = tokens.slice(best, best + size)
  const from = best === 0 ? 0 : window[0]!.start
  const to = best + size >= tokens.length ? text.length : window.at(-1)!.end
  const lead = from > 0 ? '…' : ''
  const shift = lead.length - from
  return {
    // one space per line break or tab keeps the excerpt one line without moving the ranges (as markedSnippet)
    text: lead + text.slice(from, to).replace(/[\t\n\r\v\f]/g, ' ') + (to < text.length ? '…' : ''),
    highlights: window.filter(t => t.hit).map(t => [t.start + shift, t.end + shift] as [number, number]),
  }
}

/**
 * The excerpt of the newest matching message of each of `conversationIds` (`ownerId`'s; only those with a match).
 * With `hits` (SQLite) the messages are already known: their text is read by rowid and cut here.
 */
export async function messageSnippets(ownerId: string, conversationIds: string[], search: SearchTerms, hits?: MessageHits): Promise<Map<string, ApiSnippet>> {
  const found = new Map<string, ApiSnippet>()
  if (conversationIds.length === 0 || search.words.length === 0) return found
  if (hits) {
    const wanted = conversationIds.filter(id => hits.has(id))
    if (wanted.length === 0) return found
    const texts = await rawRows<{ cid: string, content: string }>(sql`select conversation_id as cid, content from messages
      where rowid in (${sql.join(wanted.map(id => sql`${hits.get(id)!}`), sql`, `)})`)
    for (const { cid, content } of texts) found.set(cid, textSnippet(content, search.words))
    return found
  }
  const ids = sql.join(conversationIds.map(id => sql`${id}`), sql`, `)
  const excerpts = dialect === 'pg'
    // the excerpt is cut from whole words (energy_simple), which both halves of each word's query match as prefixes
    ? await rawRows<{ cid: string, marked: string }>(sql`
        select distinct on (m.conversation_id) m.conversation_id as cid,
          ts_headline('energy_simple', translate(m.content, ${MARKUP}, ${MARKUP_STANDINS}), q.query, ${`StartSel="${START}", StopSel="${STOP}", MaxFragments=1, MaxWords=24, MinWords=8, FragmentDelimiter=" … "`}) as marked
        from messages m, (select ${wordsTsQuery(search.words)} as query) q
        where m.conversation_id in (${ids}) and m.role <> 'tool' and m.search_vector @@ ${ownerTsQuery(search.words, ownerId)}
        order by m.conversation_id, m.created_at desc, m.id desc`)
    : await rawRows<{ cid: string, marked: string }>(sql`
        select m.conversation_id as cid, snippet(messages_fts, 0, char(2), char(3), '…', 24) as marked
        from messages_fts join messages m on m.rowid = messages_fts.rowid
        where messages_fts match ${ftsQuery(search.words, ownerId)} and m.conversation_id in (${ids}) and m.role <> 'tool'
        order by m.created_at desc, m.id desc`)
  for (const { cid, marked } of excerpts) if (!found.has(cid)) found.set(cid, markedSnippet(dialect === 'pg' ? unmasked(marked) : marked))
  return found
}
