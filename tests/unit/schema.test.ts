import { getTableConfig as pgConfig } from 'drizzle-orm/pg-core'
import { getTableConfig as sqliteConfig } from 'drizzle-orm/sqlite-core'
import { describe, expect, it } from 'vitest'
import * as pg from '../../server/db/schema/pg'
import * as sqlite from '../../server/db/schema/sqlite'

// The services are written once against both dialects, so the two schemas must agree exactly.
const kindOf = (sqlType: string) => {
  const t = sqlType.toLowerCase()
  if (t.startsWith('timestamp')) return 'time'
  if (t === 'boolean') return 'bool'
  if (t === 'jsonb') return 'json'
  return t
}

describe('database schema', () => {
  it('exports the same tables in both dialects', () => {
    expect(Object.keys(pg).sort()).toEqual(Object.keys(sqlite).sort())
  })

  for (const name of Object.keys(sqlite) as Array<keyof typeof sqlite>) {
    it(`table ${name}: same columns, kinds, nullability, keys and indexes`, () => {
      const s = sqliteConfig(sqlite[name] as never)
      const p = pgConfig(pg[name] as never)
      expect(p.name).toBe(s.name)
      const sCols = s.columns.map(c => ({
        name: c.name,
        notNull: c.notNull,
        primary: c.primary,
        // sqlite stores times and flags as integers in modes; compare what they mean
        kind: c.columnType === 'SQLiteTimestamp' ? 'time' : c.columnType === 'SQLiteBoolean' ? 'bool' : c.columnType === 'SQLiteTextJson' ? 'json' : kindOf(c.getSQLType()),
      }))
      const pCols = p.columns.map(c => ({ name: c.name, notNull: c.notNull, primary: c.primary, kind: kindOf(c.getSQLType()) }))
      expect(pCols).toEqual(sCols)
      expect(p.indexes.map(i => i.config.name).sort()).toEqual(s.indexes.map(i => i.config.name).sort())
      expect(p.foreignKeys.length).toBe(s.foreignKeys.length)
    })
  }
})
