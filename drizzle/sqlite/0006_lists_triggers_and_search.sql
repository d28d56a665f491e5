-- Custom migration (drizzle-kit cannot express triggers or FTS5 tables): everything the lists, search and admin
-- stats read is kept in step by triggers, inside the transaction that writes the message, and backfilled here.
-- A later migration that rebuilds `messages` or `conversations` (drizzle's copy-and-rename) drops these
-- triggers and changes message rowids: it must re-create them and run the FTS 'rebuild' again.

-- conversations.message_count: messages shown in the conversation (tool calls are not)
CREATE TRIGGER `messages_count_insert` AFTER INSERT ON `messages` WHEN new.role <> 'tool' BEGIN
  UPDATE conversations SET message_count = message_count + 1 WHERE id = new.conversation_id;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_count_delete` AFTER DELETE ON `messages` WHEN old.role <> 'tool' BEGIN
  UPDATE conversations SET message_count = message_count - 1 WHERE id = old.conversation_id;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_count_update` AFTER UPDATE OF role, conversation_id ON `messages` BEGIN
  UPDATE conversations SET message_count = message_count - 1 WHERE id = old.conversation_id AND old.role <> 'tool';
  UPDATE conversations SET message_count = message_count + 1 WHERE id = new.conversation_id AND new.role <> 'tool';
END;
--> statement-breakpoint
UPDATE conversations SET message_count = (SELECT count(*) FROM messages WHERE messages.conversation_id = conversations.id AND messages.role <> 'tool');
--> statement-breakpoint

-- full-text index of message text: accents and case folded, the text itself stays in `messages`. Each entry
-- also carries its conversation owner's id (without dashes: one token), so that one user's search is answered
-- inside the index instead of fetching every matching message of every user.
CREATE VIEW `messages_search` AS
  SELECT m.rowid AS rid, m.content AS content, replace(c.user_id, '-', '') AS owner
  FROM messages m JOIN conversations c ON c.id = m.conversation_id;
--> statement-breakpoint
CREATE VIRTUAL TABLE `messages_fts` USING fts5(content, owner, content='messages_search', content_rowid='rid', tokenize='unicode61 remove_diacritics 2');
--> statement-breakpoint
CREATE TRIGGER `messages_fts_insert` AFTER INSERT ON `messages` BEGIN
  INSERT INTO messages_fts(rowid, content, owner)
    SELECT new.rowid, new.content, replace(c.user_id, '-', '') FROM conversations c WHERE c.id = new.conversation_id;
END;
--> statement-breakpoint
-- (a message whose conversation is already gone was taken out of the index with it: see conversations_fts_delete)
CREATE TRIGGER `messages_fts_delete` AFTER DELETE ON `messages` BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content, owner)
    SELECT 'delete', old.rowid, old.content, replace(c.user_id, '-', '') FROM conversations c WHERE c.id = old.conversation_id;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_fts_update` AFTER UPDATE OF content, conversation_id ON `messages` BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content, owner)
    SELECT 'delete', old.rowid, old.content, replace(c.user_id, '-', '') FROM conversations c WHERE c.id = old.conversation_id;
  INSERT INTO messages_fts(rowid, content, owner)
    SELECT new.rowid, new.content, replace(c.user_id, '-', '') FROM conversations c WHERE c.id = new.conversation_id;
END;
--> statement-breakpoint
CREATE TRIGGER `conversations_fts_delete` BEFORE DELETE ON `conversations` BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content, owner)
    SELECT 'delete', m.rowid, m.content, replace(old.user_id, '-', '') FROM messages m WHERE m.conversation_id = old.id;
END;
--> statement-breakpoint
CREATE TRIGGER `conversations_fts_reassign` AFTER UPDATE OF user_id ON `conversations` WHEN old.user_id <> new.user_id BEGIN
  INSERT INTO messages_fts(messages_fts, rowid, content, owner)
    SELECT 'delete', m.rowid, m.content, replace(old.user_id, '-', '') FROM messages m WHERE m.conversation_id = new.id;
  INSERT INTO messages_fts(rowid, content, owner)
    SELECT m.rowid, m.content, replace(new.user_id, '-', '') FROM messages m WHERE m.conversation_id = new.id;
END;
--> statement-breakpoint
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
--> statement-breakpoint

-- admin stats rollups: usage per (day, conversation owner), first-token latency histogram per day
CREATE TRIGGER `messages_usage_insert` AFTER INSERT ON `messages` BEGIN
  INSERT INTO usage_daily (day, user_id, messages, prompt_tokens, completion_tokens)
    SELECT new.created_at / 86400000, c.user_id, 1, coalesce(new.prompt_tokens, 0), coalesce(new.completion_tokens, 0)
    FROM conversations c WHERE c.id = new.conversation_id
    ON CONFLICT (day, user_id) DO UPDATE SET messages = usage_daily.messages + 1,
      prompt_tokens = usage_daily.prompt_tokens + excluded.prompt_tokens, completion_tokens = usage_daily.completion_tokens + excluded.completion_tokens;
  INSERT INTO latency_daily (day, ms, answers)
    SELECT new.created_at / 86400000, new.first_token_ms, 1 WHERE new.role = 'assistant' AND new.first_token_ms IS NOT NULL
    ON CONFLICT (day, ms) DO UPDATE SET answers = latency_daily.answers + 1;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_usage_delete` AFTER DELETE ON `messages` BEGIN
  UPDATE usage_daily SET messages = messages - 1, prompt_tokens = prompt_tokens - coalesce(old.prompt_tokens, 0),
    completion_tokens = completion_tokens - coalesce(old.completion_tokens, 0)
    WHERE day = old.created_at / 86400000 AND user_id = (SELECT user_id FROM conversations WHERE id = old.conversation_id);
  UPDATE latency_daily SET answers = answers - 1
    WHERE old.role = 'assistant' AND day = old.created_at / 86400000 AND ms = old.first_token_ms;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_usage_update` AFTER UPDATE OF conversation_id, role, created_at, prompt_tokens, completion_tokens, first_token_ms ON `messages` BEGIN
  UPDATE usage_daily SET messages = messages - 1, prompt_tokens = prompt_tokens - coalesce(old.prompt_tokens, 0),
    completion_tokens = completion_tokens - coalesce(old.completion_tokens, 0)
    WHERE day = old.created_at / 86400000 AND user_id = (SELECT user_id FROM conversations WHERE id = old.conversation_id);
  UPDATE latency_daily SET answers = answers - 1
    WHERE old.role = 'assistant' AND day = old.created_at / 86400000 AND ms = old.first_token_ms;
  INSERT INTO usage_daily (day, user_id, messages, prompt_tokens, completion_tokens)
    SELECT new.created_at / 86400000, c.user_id, 1, coalesce(new.prompt_tokens, 0), coalesce(new.completion_tokens, 0)
    FROM conversations c WHERE c.id = new.conversation_id
    ON CONFLICT (day, user_id) DO UPDATE SET messages = usage_daily.messages + 1,
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
    FROM (SELECT created_at / 86400000 AS day, count(*) AS n, coalesce(sum(prompt_tokens), 0) AS p, coalesce(sum(completion_tokens), 0) AS c
      FROM messages WHERE conversation_id = old.id GROUP BY 1) AS m
    WHERE usage_daily.day = m.day AND usage_daily.user_id = old.user_id;
END;
--> statement-breakpoint
-- a reassigned conversation's usage moves to its new owner (the stats count by the current owner)
CREATE TRIGGER `conversations_usage_reassign` AFTER UPDATE OF user_id ON `conversations` WHEN old.user_id <> new.user_id BEGIN
  UPDATE usage_daily SET messages = usage_daily.messages - m.n, prompt_tokens = usage_daily.prompt_tokens - m.p,
    completion_tokens = usage_daily.completion_tokens - m.c
    FROM (SELECT created_at / 86400000 AS day, count(*) AS n, coalesce(sum(prompt_tokens), 0) AS p, coalesce(sum(completion_tokens), 0) AS c
      FROM messages WHERE conversation_id = new.id GROUP BY 1) AS m
    WHERE usage_daily.day = m.day AND usage_daily.user_id = old.user_id;
  INSERT INTO usage_daily (day, user_id, messages, prompt_tokens, completion_tokens)
    SELECT created_at / 86400000, new.user_id, count(*), coalesce(sum(prompt_tokens), 0), coalesce(sum(completion_tokens), 0)
    FROM messages WHERE conversation_id = new.id GROUP BY 1
    ON CONFLICT (day, user_id) DO UPDATE SET messages = usage_daily.messages + excluded.messages,
      prompt_tokens = usage_daily.prompt_tokens + excluded.prompt_tokens, completion_tokens = usage_daily.completion_tokens + excluded.completion_tokens;
END;
--> statement-breakpoint
INSERT INTO usage_daily (day, user_id, messages, prompt_tokens, completion_tokens)
  SELECT m.created_at / 86400000, c.user_id, count(*), coalesce(sum(m.prompt_tokens), 0), coalesce(sum(m.completion_tokens), 0)
  FROM messages m JOIN conversations c ON c.id = m.conversation_id GROUP BY 1, 2;
--> statement-breakpoint
INSERT INTO latency_daily (day, ms, answers)
  SELECT created_at / 86400000, first_token_ms, count(*) FROM messages
  WHERE role = 'assistant' AND first_token_ms IS NOT NULL GROUP BY 1, 2;
