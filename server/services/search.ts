import { type SQL, sql } from 'drizzle-orm'
import type { ApiSnippet } from '#shared/types'
import { rawRows } from '../db/client'
import { conversations, dialect } from '../db/schema'

/**
 * Conversation search: titles by substring (accents and case folded, `%` and `_` literal), message text through
 * the full-text index of migrations 0006–0007 — SQLite FTS5 (`unicode61 remove_diacritics 2`, prefix indexes) or
 * PostgreSQL's `energy_es` configuration (unaccent, then the Spanish stemmer). Every word of `q` must match the start
 * of a word of the message, so a search works while it is being typed.
 */
export interface SearchTerms { titlePattern: string, words: string[] }

const MAX_WORDS = 16
const ACCENTED = 'ÁÉÍÓÚÜÑáéíóúüñ'
const PLAIN = 'aeiouunaeiouun'

/** What the database's title fold does, in JS: lower case, Spanish accents and ñ dropped. */
export const foldTitle = (text: string) => [...text.toLowerCase()].map(c => PLAIN[ACCENTED.indexOf(c)] ?? c).join('')

export function searchTerms(q: string): SearchTerms {
  const words = (q.normalize('NFC').match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, MAX_WORDS).map(w => w.slice(0, 64))
  return { titlePattern: `%${foldTitle(q).replace(/[\\%_]/g, c => `\\${c}`)}%`, words }
}

// lower() folds only ASCII in SQLite and follows the collation in PostgreSQL: the accented capitals by hand
function foldedTitle(): SQL {
  if (dialect === 'pg') return sql`translate(lower(${conversations.title}), ${ACCENTED}, ${PLAIN})`
  let expr = sql`lower(${conversations.title})`
  for (const [i, c] of [...ACCENTED].entries()) expr = sql`replace(${expr}, ${c}, ${PLAIN[i]})`
  return expr
}

/**
 * The full-text query: each word as a prefix, all of them required, within one owner's part of the index:
 * SQLite's index holds each message's owner in its `owner` column (migration 0006) and the query names it;
 * PostgreSQL's vector stores every lexeme behind the owner's id (migration 0007), so the query's lexemes (stemmed
 * and unaccented by to_tsquery) get the same prefix. One user's search never reads other users' matches.
 */
const ftsQuery = (words: string[], ownerId: string) => dialect === 'pg'
  ? words.map(w => `${w}:*`).join(' & ')
  : [`owner : "${ownerId.replace(/-/g, '')}"`, ...words.map(w => `content : "${w}"*`)].join(' AND ')

/** PostgreSQL: `to_tsquery` of `words` with each lexeme behind the owner's prefix (energy_search_vector's). */
const ownerTsQuery = (words: string[], ownerId: string): SQL =>
  sql`regexp_replace(to_tsquery('energy_es', ${ftsQuery(words, ownerId)})::text, '''([^'']+)''', ${`'${ownerId.replace(/[^0-9A-Za-z]/g, '')}.\\1'`}, 'g')::tsquery`

/** Messages of `ownerId` (tool calls excluded) whose text matches `words`, as a condition on `messages m`. */
function matchingMessages(words: string[], ownerId: string): SQL {
  return dialect === 'pg'
    ? sql`m.search_vector @@ ${ownerTsQuery(words, ownerId)} and m.role <> 'tool'`
    : sql`m.rowid in (select rowid from messages_fts where messages_fts match ${ftsQuery(words, ownerId)}) and m.role <> 'tool'`
}

/** The title matches, or (when `inMessages`) any message of the conversation (all `ownerId`'s) does. */
export function conversationMatches(search: SearchTerms, ownerId: string, inMessages: boolean): SQL {
  const inTitle = sql`${foldedTitle()} like ${search.titlePattern} escape '\\'`
  if (!inMessages || search.words.length === 0) return inTitle
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


/** The excerpt of the newest matching message of each of `conversationIds` (`ownerId`'s; only those with a match). */
export async function messageSnippets(ownerId: string, conversationIds: string[], search: SearchTerms): Promise<Map<string, ApiSnippet>> {
  const found = new Map<string, ApiSnippet>()
  if (conversationIds.length === 0 || search.words.length === 0) return found
  const ids = sql.join(conversationIds.map(id => sql`${id}`), sql`, `)
  const query = ftsQuery(search.words, ownerId)
  const excerpts = dialect === 'pg'
    ? await rawRows<{ cid: string, marked: string }>(sql`
        select distinct on (m.conversation_id) m.conversation_id as cid,
          ts_headline('energy_es', translate(m.content, ${MARKUP}, ${MARKUP_STANDINS}), q.query, ${`StartSel="${START}", StopSel="${STOP}", MaxFragments=1, MaxWords=24, MinWords=8, FragmentDelimiter=" … "`}) as marked
        from messages m, (select to_tsquery('energy_es', ${query}) as query) q
        where m.conversation_id in (${ids}) and m.role <> 'tool' and m.search_vector @@ ${ownerTsQuery(search.words, ownerId)}
        order by m.conversation_id, m.created_at desc, m.id desc`)
    : await rawRows<{ cid: string, marked: string }>(sql`
        select m.conversation_id as cid, snippet(messages_fts, 0, char(2), char(3), '…', 24) as marked
        from messages_fts join messages m on m.rowid = messages_fts.rowid
        where messages_fts match ${query} and m.conversation_id in (${ids}) and m.role <> 'tool'
        order by m.created_at desc, m.id desc`)
  for (const { cid, marked } of excerpts) if (!found.has(cid)) found.set(cid, markedSnippet(dialect === 'pg' ? unmasked(marked) : marked))
  return found
}
