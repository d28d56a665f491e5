-- Custom migration (drizzle-kit cannot express extensions, text search configurations or triggers): everything
-- the lists, search and admin stats read is kept in step by triggers, inside the transaction that writes the
-- message, and backfilled here.

-- full-text search: Spanish stemming with accents folded (unaccent before the stemmer), on both the indexed
-- text and the query, so "copiapo" and "Copiapó" are the same word either way
CREATE EXTENSION IF NOT EXISTS unaccent;
--> statement-breakpoint
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'energy_es') THEN
    CREATE TEXT SEARCH CONFIGURATION energy_es (COPY = pg_catalog.spanish);
    ALTER TEXT SEARCH CONFIGURATION energy_es ALTER MAPPING FOR hword, hword_part, word WITH unaccent, spanish_stem;
  END IF;
END $$;
--> statement-breakpoint
ALTER TABLE "messages" ADD COLUMN "search_vector" tsvector GENERATED ALWAYS AS (to_tsvector('energy_es'::regconfig, "content")) STORED;
--> statement-breakpoint
CREATE INDEX "messages_search_idx" ON "messages" USING gin ("search_vector");
--> statement-breakpoint

-- the UTC day number of a time (days since 1970-01-01), as the admin stats count days
CREATE FUNCTION energy_day(t timestamptz) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE
  AS $$ SELECT floor(extract(epoch FROM t) / 86400)::integer $$;
--> statement-breakpoint

-- conversations.message_count (tool calls not counted) and the admin stats rollups, per message row
CREATE FUNCTION messages_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE owner text;
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    IF OLD.role <> 'tool' AND (TG_OP = 'DELETE' OR NEW.role = 'tool' OR NEW.conversation_id <> OLD.conversation_id) THEN
      UPDATE conversations SET message_count = message_count - 1 WHERE id = OLD.conversation_id;
    END IF;
    SELECT user_id INTO owner FROM conversations WHERE id = OLD.conversation_id;
    IF owner IS NOT NULL THEN
      UPDATE usage_daily SET messages = messages - 1, prompt_tokens = prompt_tokens - coalesce(OLD.prompt_tokens, 0),
        completion_tokens = completion_tokens - coalesce(OLD.completion_tokens, 0)
        WHERE day = energy_day(OLD.created_at) AND user_id = owner;
    END IF;
    IF OLD.role = 'assistant' AND OLD.first_token_ms IS NOT NULL THEN
      UPDATE latency_daily SET answers = answers - 1 WHERE day = energy_day(OLD.created_at) AND ms = OLD.first_token_ms;
    END IF;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    IF NEW.role <> 'tool' AND (TG_OP = 'INSERT' OR OLD.role = 'tool' OR NEW.conversation_id <> OLD.conversation_id) THEN
      UPDATE conversations SET message_count = message_count + 1 WHERE id = NEW.conversation_id;
    END IF;
    INSERT INTO usage_daily AS u (day, user_id, messages, prompt_tokens, completion_tokens)
      SELECT energy_day(NEW.created_at), c.user_id, 1, coalesce(NEW.prompt_tokens, 0), coalesce(NEW.completion_tokens, 0)
      FROM conversations c WHERE c.id = NEW.conversation_id
      ON CONFLICT (day, user_id) DO UPDATE SET messages = u.messages + 1,
        prompt_tokens = u.prompt_tokens + excluded.prompt_tokens, completion_tokens = u.completion_tokens + excluded.completion_tokens;
    IF NEW.role = 'assistant' AND NEW.first_token_ms IS NOT NULL THEN
      INSERT INTO latency_daily AS l (day, ms, answers) VALUES (energy_day(NEW.created_at), NEW.first_token_ms, 1)
        ON CONFLICT (day, ms) DO UPDATE SET answers = l.answers + 1;
    END IF;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "messages_rollup" AFTER INSERT OR DELETE OR UPDATE OF conversation_id, role, created_at, prompt_tokens, completion_tokens, first_token_ms
  ON "messages" FOR EACH ROW EXECUTE FUNCTION messages_rollup();
--> statement-breakpoint

-- a deleted conversation takes its messages' usage along (the cascade deletes its messages after it); a
-- reassigned one moves its usage to the new owner (the stats count by the current owner)
CREATE FUNCTION conversations_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE usage_daily u SET messages = u.messages - m.n, prompt_tokens = u.prompt_tokens - m.p, completion_tokens = u.completion_tokens - m.c
    FROM (SELECT energy_day(created_at) AS day, count(*) AS n, coalesce(sum(prompt_tokens), 0) AS p, coalesce(sum(completion_tokens), 0) AS c
      FROM messages WHERE conversation_id = OLD.id GROUP BY 1) m
    WHERE u.day = m.day AND u.user_id = OLD.user_id;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  INSERT INTO usage_daily AS u (day, user_id, messages, prompt_tokens, completion_tokens)
    SELECT energy_day(created_at), NEW.user_id, count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0)
    FROM messages WHERE conversation_id = NEW.id GROUP BY 1
    ON CONFLICT (day, user_id) DO UPDATE SET messages = u.messages + excluded.messages,
      prompt_tokens = u.prompt_tokens + excluded.prompt_tokens, completion_tokens = u.completion_tokens + excluded.completion_tokens;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "conversations_rollup_delete" BEFORE DELETE ON "conversations" FOR EACH ROW EXECUTE FUNCTION conversations_rollup();
--> statement-breakpoint
CREATE TRIGGER "conversations_rollup_reassign" AFTER UPDATE OF user_id ON "conversations" FOR EACH ROW
  WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id) EXECUTE FUNCTION conversations_rollup();
--> statement-breakpoint

-- backfill
UPDATE conversations c SET message_count = m.n
  FROM (SELECT conversation_id, count(*) AS n FROM messages WHERE role <> 'tool' GROUP BY 1) m WHERE m.conversation_id = c.id;
--> statement-breakpoint
INSERT INTO usage_daily (day, user_id, messages, prompt_tokens, completion_tokens)
  SELECT energy_day(m.created_at), c.user_id, count(*), coalesce(sum(m.prompt_tokens), 0), coalesce(sum(m.completion_tokens), 0)
  FROM messages m JOIN conversations c ON c.id = m.conversation_id GROUP BY 1, 2;
--> statement-breakpoint
INSERT INTO latency_daily (day, ms, answers)
  SELECT energy_day(created_at), first_token_ms, count(*) FROM messages
  WHERE role = 'assistant' AND first_token_ms IS NOT NULL GROUP BY 1, 2;
