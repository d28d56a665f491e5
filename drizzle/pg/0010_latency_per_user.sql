-- A team's median first-token latency read every answer of the team (messages joined to conversations: one
-- index scan per conversation, seconds at 1M messages). This per-owner histogram makes it one index range per
-- member. Kept by the same trigger functions as latency_daily and usage_daily (migration 0006, replaced here
-- with the new table added), in the transaction that writes the message; counted by the conversation's
-- current owner, so a reassign moves the answers like it moves the usage.
CREATE TABLE "latency_user_daily" (
	"day" integer NOT NULL,
	"user_id" text NOT NULL,
	"ms" integer NOT NULL,
	"answers" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "latency_user_daily_user_id_day_ms_pk" PRIMARY KEY("user_id","day","ms")
);
--> statement-breakpoint
-- and the team's count of conversations started in the range, from this index alone (it read every one of the
-- team's conversations: 22k heap pages on PostgreSQL at 1M messages)
CREATE INDEX "conversations_user_created_idx" ON "conversations" USING btree ("user_id","created_at");
--> statement-breakpoint
CREATE OR REPLACE FUNCTION messages_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE owner text;
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    IF OLD.role <> 'tool' AND (TG_OP = 'DELETE' OR NEW.role = 'tool' OR NEW.conversation_id <> OLD.conversation_id) THEN
      UPDATE conversations SET message_count = message_count - 1 WHERE id = OLD.conversation_id;
    END IF;
    -- no owner: the conversation is being deleted and its BEFORE DELETE trigger already took its rollups along
    SELECT user_id INTO owner FROM conversations WHERE id = OLD.conversation_id;
    IF owner IS NOT NULL THEN
      UPDATE usage_daily SET messages = messages - 1, prompt_tokens = prompt_tokens - coalesce(OLD.prompt_tokens, 0),
        completion_tokens = completion_tokens - coalesce(OLD.completion_tokens, 0)
        WHERE day = energy_day(OLD.created_at) AND user_id = owner;
      IF OLD.role = 'assistant' AND OLD.first_token_ms IS NOT NULL THEN
        UPDATE latency_user_daily SET answers = answers - 1
          WHERE user_id = owner AND day = energy_day(OLD.created_at) AND ms = OLD.first_token_ms;
      END IF;
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
      INSERT INTO latency_user_daily AS l (day, user_id, ms, answers)
        SELECT energy_day(NEW.created_at), c.user_id, NEW.first_token_ms, 1 FROM conversations c WHERE c.id = NEW.conversation_id
        ON CONFLICT (user_id, day, ms) DO UPDATE SET answers = l.answers + 1;
    END IF;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE OR REPLACE FUNCTION conversations_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE usage_daily u SET messages = u.messages - m.n, prompt_tokens = u.prompt_tokens - m.p, completion_tokens = u.completion_tokens - m.c
    FROM (SELECT energy_day(created_at) AS day, count(*) AS n, coalesce(sum(prompt_tokens), 0) AS p, coalesce(sum(completion_tokens), 0) AS c
      FROM messages WHERE conversation_id = OLD.id GROUP BY 1) m
    WHERE u.day = m.day AND u.user_id = OLD.user_id;
  UPDATE latency_user_daily l SET answers = l.answers - m.n
    FROM (SELECT energy_day(created_at) AS day, first_token_ms AS ms, count(*) AS n FROM messages
      WHERE conversation_id = OLD.id AND role = 'assistant' AND first_token_ms IS NOT NULL GROUP BY 1, 2) m
    WHERE l.user_id = OLD.user_id AND l.day = m.day AND l.ms = m.ms;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  INSERT INTO usage_daily AS u (day, user_id, messages, prompt_tokens, completion_tokens)
    SELECT energy_day(created_at), NEW.user_id, count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0)
    FROM messages WHERE conversation_id = NEW.id GROUP BY 1
    ON CONFLICT (day, user_id) DO UPDATE SET messages = u.messages + excluded.messages,
      prompt_tokens = u.prompt_tokens + excluded.prompt_tokens, completion_tokens = u.completion_tokens + excluded.completion_tokens;
  INSERT INTO latency_user_daily AS l (day, user_id, ms, answers)
    SELECT energy_day(created_at), NEW.user_id, first_token_ms, count(*) FROM messages
    WHERE conversation_id = NEW.id AND role = 'assistant' AND first_token_ms IS NOT NULL GROUP BY 1, 3
    ON CONFLICT (user_id, day, ms) DO UPDATE SET answers = l.answers + excluded.answers;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- backfill, in key order so that a member's rows start out on neighbouring pages
INSERT INTO latency_user_daily (day, user_id, ms, answers)
  SELECT energy_day(m.created_at), c.user_id, m.first_token_ms, count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
  WHERE m.role = 'assistant' AND m.first_token_ms IS NOT NULL GROUP BY 1, 2, 3 ORDER BY 2, 1, 3;
