-- The admin stats count the user's and the assistant's messages (docs/api.md), but usage_daily counted every
-- message row: each tool call the assistant made (role 'tool') added one. The rollup functions of 0010 are
-- restated counting only user and assistant messages (tokens and latencies unchanged), and the counts already
-- stored are rebuilt from the messages.
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
      UPDATE usage_daily SET messages = messages - (OLD.role IN ('user', 'assistant'))::int, prompt_tokens = prompt_tokens - coalesce(OLD.prompt_tokens, 0),
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
      SELECT energy_day(NEW.created_at), c.user_id, (NEW.role IN ('user', 'assistant'))::int, coalesce(NEW.prompt_tokens, 0), coalesce(NEW.completion_tokens, 0)
      FROM conversations c WHERE c.id = NEW.conversation_id
      ON CONFLICT (day, user_id) DO UPDATE SET messages = u.messages + excluded.messages,
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
    FROM (SELECT energy_day(created_at) AS day, count(*) FILTER (WHERE role IN ('user', 'assistant')) AS n, coalesce(sum(prompt_tokens), 0) AS p, coalesce(sum(completion_tokens), 0) AS c
      FROM messages WHERE conversation_id = OLD.id GROUP BY 1) m
    WHERE u.day = m.day AND u.user_id = OLD.user_id;
  UPDATE latency_user_daily l SET answers = l.answers - m.n
    FROM (SELECT energy_day(created_at) AS day, first_token_ms AS ms, count(*) AS n FROM messages
      WHERE conversation_id = OLD.id AND role = 'assistant' AND first_token_ms IS NOT NULL GROUP BY 1, 2) m
    WHERE l.user_id = OLD.user_id AND l.day = m.day AND l.ms = m.ms;
  IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
  INSERT INTO usage_daily AS u (day, user_id, messages, prompt_tokens, completion_tokens)
    SELECT energy_day(created_at), NEW.user_id, count(*) FILTER (WHERE role IN ('user', 'assistant')), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0)
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
-- no other process writes a count while they are rebuilt (5 s at 1M messages): during a rolling restart the old
-- processes still write messages, and a count they added between the DELETE and the INSERT would be lost or doubled
LOCK TABLE usage_daily IN EXCLUSIVE MODE;
--> statement-breakpoint
DELETE FROM usage_daily;
--> statement-breakpoint
INSERT INTO usage_daily (day, user_id, messages, prompt_tokens, completion_tokens)
  SELECT energy_day(m.created_at), c.user_id, count(*) FILTER (WHERE m.role IN ('user', 'assistant')),
    coalesce(sum(m.prompt_tokens), 0), coalesce(sum(m.completion_tokens), 0)
  FROM messages m JOIN conversations c ON c.id = m.conversation_id GROUP BY 1, 2;
