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
      // what a column may hold and what it starts as: enum values, and whether a default exists
      const rules = (columns: typeof s.columns | typeof p.columns) =>
        columns.map(c => ({ name: c.name, enum: c.enumValues ?? null, hasDefault: c.hasDefault }))
      expect(rules(p.columns)).toEqual(rules(s.columns))
      // indexes by name, with their columns in order and their uniqueness
      const indexes = (list: typeof s.indexes | typeof p.indexes) => list
        .map(i => ({ name: i.config.name ?? '', unique: !!i.config.unique, on: i.config.columns.map(c => (c as { name?: string }).name ?? 'expression') }))
        .sort((a, b) => a.name.localeCompare(b.name))
      expect(indexes(p.indexes)).toEqual(indexes(s.indexes))
      // foreign keys: the same columns point at the same table and columns, with the same delete and update rules
      const keys = (list: typeof s.foreignKeys | typeof p.foreignKeys) => list.map((fk) => {
        const ref = fk.reference()
        return { from: ref.columns.map(c => c.name), to: `${(ref.foreignTable as any)[Symbol.for('drizzle:Name')]}(${ref.foreignColumns.map(c => c.name)})`, onDelete: fk.onDelete ?? 'no action', onUpdate: fk.onUpdate ?? 'no action' }
      }).sort((a, b) => a.from.join().localeCompare(b.from.join()))
      expect(keys(p.foreignKeys)).toEqual(keys(s.foreignKeys))
    })
  }
})
