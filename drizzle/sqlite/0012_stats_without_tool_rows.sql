-- The admin stats count the user's and the assistant's messages (docs/api.md), but usage_daily counted every
-- message row: each tool call the assistant made (role 'tool') added one. The usage triggers of 0006 are restated
-- counting only user and assistant messages (tokens and the latency histogram unchanged), and the counts already
-- stored are rebuilt from the messages.
DROP TRIGGER `messages_usage_insert`;
--> statement-breakpoint
DROP TRIGGER `messages_usage_delete`;
--> statement-breakpoint
DROP TRIGGER `messages_usage_update`;
--> statement-breakpoint
DROP TRIGGER `conversations_usage_delete`;
--> statement-breakpoint
DROP TRIGGER `conversations_usage_reassign`;
--> statement-breakpoint
CREATE TRIGGER `messages_usage_insert` AFTER INSERT ON `messages` BEGIN
  INSERT INTO usage_daily (day, user_id, messages, prompt_tokens, completion_tokens)
    SELECT new.created_at / 86400000, c.user_id, (new.role IN ('user', 'assistant')), coalesce(new.prompt_tokens, 0), coalesce(new.completion_tokens, 0)
    FROM conversations c WHERE c.id = new.conversation_id
    ON CONFLICT (day, user_id) DO UPDATE SET messages = usage_daily.messages + excluded.messages,
      prompt_tokens = usage_daily.prompt_tokens + excluded.prompt_tokens, completion_tokens = usage_daily.completion_tokens + excluded.completion_tokens;
  INSERT INTO latency_daily (day, ms, answers)
    SELECT new.created_at / 86400000, new.first_token_ms, 1 WHERE new.role = 'assistant' AND new.first_token_ms IS NOT NULL
    ON CONFLICT (day, ms) DO UPDATE SET answers = latency_daily.answers + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_usage_delete` AFTER DELETE ON `messages` BEGIN
  UPDATE usage_daily SET messages = messages - (old.role IN ('user', 'assistant')), prompt_tokens = prompt_tokens - coalesce(old.prompt_tokens, 0),
    completion_tokens = completion_tokens - coalesce(old.completion_tokens, 0)
    WHERE day = old.created_at / 86400000 AND user_id = (SELECT user_id FROM conversations WHERE id = old.conversation_id);
  UPDATE latency_daily SET answers = answers - 1
    WHERE old.role = 'assistant' AND day = old.created_at / 86400000 AND ms = old.first_token_ms;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_usage_update` AFTER UPDATE OF conversation_id, role, created_at, prompt_tokens, completion_tokens, first_token_ms ON `messages` BEGIN
  UPDATE usage_daily SET messages = messages - (old.role IN ('user', 'assistant')), prompt_tokens = prompt_tokens - coalesce(old.prompt_tokens, 0),
    completion_tokens = completion_tokens - coalesce(old.completion_tokens, 0)
    WHERE day = old.created_at / 86400000 AND user_id = (SELECT user_id FROM conversations WHERE id = old.conversation_id);
  UPDATE latency_daily SET answers = answers - 1
    WHERE old.role = 'assistant' AND day = old.created_at / 86400000 AND ms = old.first_token_ms;
  INSERT INTO usage_daily (day, user_id, messages, prompt_tokens, completion_tokens)
    SELECT new.created_at / 86400000, c.user_id, (new.role IN ('user', 'assistant')), coalesce(new.prompt_tokens, 0), coalesce(new.completion_tokens, 0)
    FROM conversations c WHERE c.id = new.conversation_id
    ON CONFLICT (day, user_id) DO UPDATE SET messages = usage_daily.messages + excluded.messages,
      prompt_tokens = usage_daily.prompt_tokens + excluded.prompt_tokens, completion_tokens = usage_daily.completion_tokens + excluded.completion_tokens;
  INSERT INTO latency_daily (day, ms, answers)
    SELECT new.created_at / 86400000, new.first_token_ms, 1 WHERE new.role = 'assistant' AND new.first_token_ms IS NOT NULL
    ON CONFLICT (day, ms) DO UPDATE SET answers = latency_daily.answers + 1;
END;
--> statement-breakpoint
-- a deleted conversation takes its messages' usage along (its messages may be deleted after it, by the cascade)
CREATE TRIGGER `conversations_usage_delete` BEFORE DELETE ON `conversations` BEGIN
  UPDATE usage_daily SET messages = usage_daily.messages - m.n, prompt_tokens = usage_daily.prompt_tokens - m.p,
    completion_tokens = usage_daily.completion_tokens - m.c
    FROM (SELECT created_at / 86400000 AS day, sum(role IN ('user', 'assistant')) AS n, coalesce(sum(prompt_tokens), 0) AS p, coalesce(sum(completion_tokens), 0) AS c
      FROM messages WHERE conversation_id = old.id GROUP BY 1) AS m
    WHERE usage_daily.day = m.day AND usage_daily.user_id = old.user_id;
END;
--> statement-breakpoint
-- a reassigned conversation's usage moves to its new owner (the stats count by the current owner)
CREATE TRIGGER `conversations_usage_reassign` AFTER UPDATE OF user_id ON `conversations` WHEN old.user_id <> new.user_id BEGIN
  UPDATE usage_daily SET messages = usage_daily.messages - m.n, prompt_tokens = usage_daily.prompt_tokens - m.p,
    completion_tokens = usage_daily.completion_tokens - m.c
    FROM (SELECT created_at / 86400000 AS day, sum(role IN ('user', 'assistant')) AS n, coalesce(sum(prompt_tokens), 0) AS p, coalesce(sum(completion_tokens), 0) AS c
      FROM messages WHERE conversation_id = new.id GROUP BY 1) AS m
    WHERE usage_daily.day = m.day AND usage_daily.user_id = old.user_id;
  INSERT INTO usage_daily (day, user_id, messages, prompt_tokens, completion_tokens)
    SELECT created_at / 86400000, new.user_id, sum(role IN ('user', 'assistant')), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0)
    FROM messages WHERE conversation_id = new.id GROUP BY 1
    ON CONFLICT (day, user_id) DO UPDATE SET messages = usage_daily.messages + excluded.messages,
      prompt_tokens = usage_daily.prompt_tokens + excluded.prompt_tokens, completion_tokens = usage_daily.completion_tokens + excluded.completion_tokens;
END;
--> statement-breakpoint
DELETE FROM usage_daily;
--> statement-breakpoint
INSERT INTO usage_daily (day, user_id, messages, prompt_tokens, completion_tokens)
  SELECT m.created_at / 86400000, c.user_id, sum(m.role IN ('user', 'assistant')), coalesce(sum(m.prompt_tokens), 0),
    coalesce(sum(m.completion_tokens), 0)
  FROM messages m JOIN conversations c ON c.id = m.conversation_id GROUP BY 1, 2;
