-- Custom migration: search as you type finds on PostgreSQL what it finds on SQLite. The vector held only Spanish
-- stems, and a word typed so far is stemmed too, so a prefix could stem longer than the stored word's stem
-- ("operacione" → 'operacion', stored 'oper': "operaciones" was found only once typed whole), and a stop word
-- ("para", "como") was no lexeme at all. Each message now also keeps its words whole (unaccented, lower case, no
-- stop words: `energy_simple`), behind the same owner prefix, and a query word matches either its stem or itself
-- as a prefix (server/services/search.ts), so stemming still finds "renovable" for "renovables".
DO $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'energy_simple') THEN
    CREATE TEXT SEARCH CONFIGURATION energy_simple (COPY = pg_catalog.simple);
    ALTER TEXT SEARCH CONFIGURATION energy_simple ALTER MAPPING FOR hword, hword_part, word WITH unaccent, simple;
  END IF;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION energy_search_vector(content text, owner text) RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$
    SELECT coalesce(array_to_tsvector(array_agg(o.prefix || t.lexeme)), ''::tsvector)
    FROM unnest(to_tsvector('energy_es'::regconfig, coalesce(content, ''))
        || to_tsvector('energy_simple'::regconfig, coalesce(content, ''))) AS t,
      (SELECT regexp_replace(coalesce(owner, ''), '[^0-9A-Za-z]', '', 'g') || '.' AS prefix) AS o
  $$;
--> statement-breakpoint
-- New and edited messages get the new vector from the trigger at once. The stored ones are rebuilt in the background
-- after start-up (server/services/search-rebuild.ts), in batches of ascending id from this cursor, because one
-- UPDATE here took 6 minutes at 1M messages (2 without the index), far past a deploy's health check; meanwhile a
-- stored message is found as before, by its stems. The row goes when the rebuild is done; none when nothing is stored.
CREATE TABLE "search_rebuild" ("after" text NOT NULL);
--> statement-breakpoint
INSERT INTO search_rebuild (after) SELECT '' WHERE EXISTS (SELECT 1 FROM messages);
