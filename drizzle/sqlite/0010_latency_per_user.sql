-- A team's median first-token latency read every answer of the team (messages joined to conversations: one
-- index range per conversation, 0.8 s of CPU at 1M messages). This per-owner histogram makes it one range per
-- member. WITHOUT ROWID (drizzle cannot say it; the columns and key are the schema's): the rows are stored in
-- key order, so a member's range is read from a few neighbouring pages with no lookup per row.
-- Kept in step by triggers like latency_daily and usage_daily (0006), in the transaction that writes the
-- message; counted by the conversation's current owner, so a reassign moves the answers like it moves the usage.
CREATE TABLE `latency_user_daily` (
	`day` integer NOT NULL,
	`user_id` text NOT NULL,
	`ms` integer NOT NULL,
	`answers` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`user_id`, `day`, `ms`)
) WITHOUT ROWID;
--> statement-breakpoint
-- and the team's count of conversations started in the range, from this index alone (it read every one of the
-- team's conversations: 22k heap pages on PostgreSQL at 1M messages)
CREATE INDEX `conversations_user_created_idx` ON `conversations` (`user_id`,`created_at`);
--> statement-breakpoint
CREATE TRIGGER `messages_latency_user_insert` AFTER INSERT ON `messages`
  WHEN new.role = 'assistant' AND new.first_token_ms IS NOT NULL BEGIN
  INSERT INTO latency_user_daily (day, user_id, ms, answers)
    SELECT new.created_at / 86400000, c.user_id, new.first_token_ms, 1 FROM conversations c WHERE c.id = new.conversation_id
    ON CONFLICT (user_id, day, ms) DO UPDATE SET answers = latency_user_daily.answers + 1;
END;
--> statement-breakpoint
-- (a message whose conversation is already gone was taken out with it: see conversations_latency_user_delete)
CREATE TRIGGER `messages_latency_user_delete` AFTER DELETE ON `messages`
  WHEN old.role = 'assistant' AND old.first_token_ms IS NOT NULL BEGIN
  UPDATE latency_user_daily SET answers = answers - 1
    WHERE user_id = (SELECT user_id FROM conversations WHERE id = old.conversation_id)
      AND day = old.created_at / 86400000 AND ms = old.first_token_ms;
END;
--> statement-breakpoint
CREATE TRIGGER `messages_latency_user_update` AFTER UPDATE OF conversation_id, role, created_at, first_token_ms ON `messages` BEGIN
  UPDATE latency_user_daily SET answers = answers - 1
    WHERE old.role = 'assistant' AND user_id = (SELECT user_id FROM conversations WHERE id = old.conversation_id)
      AND day = old.created_at / 86400000 AND ms = old.first_token_ms;
  INSERT INTO latency_user_daily (day, user_id, ms, answers)
    SELECT new.created_at / 86400000, c.user_id, new.first_token_ms, 1 FROM conversations c
    WHERE c.id = new.conversation_id AND new.role = 'assistant' AND new.first_token_ms IS NOT NULL
    ON CONFLICT (user_id, day, ms) DO UPDATE SET answers = latency_user_daily.answers + 1;
END;
--> statement-breakpoint
-- a deleted conversation takes its answers along (its messages may be deleted after it, by the cascade)
CREATE TRIGGER `conversations_latency_user_delete` BEFORE DELETE ON `conversations` BEGIN
  UPDATE latency_user_daily SET answers = latency_user_daily.answers - m.n
    FROM (SELECT created_at / 86400000 AS day, first_token_ms AS ms, count(*) AS n FROM messages
      WHERE conversation_id = old.id AND role = 'assistant' AND first_token_ms IS NOT NULL GROUP BY 1, 2) AS m
    WHERE latency_user_daily.user_id = old.user_id AND latency_user_daily.day = m.day AND latency_user_daily.ms = m.ms;
END;
--> statement-breakpoint
-- a reassigned conversation's answers move to its new owner
CREATE TRIGGER `conversations_latency_user_reassign` AFTER UPDATE OF user_id ON `conversations` WHEN old.user_id <> new.user_id BEGIN
  UPDATE latency_user_daily SET answers = latency_user_daily.answers - m.n
    FROM (SELECT created_at / 86400000 AS day, first_token_ms AS ms, count(*) AS n FROM messages
      WHERE conversation_id = new.id AND role = 'assistant' AND first_token_ms IS NOT NULL GROUP BY 1, 2) AS m
    WHERE latency_user_daily.user_id = old.user_id AND latency_user_daily.day = m.day AND latency_user_daily.ms = m.ms;
  INSERT INTO latency_user_daily (day, user_id, ms, answers)
    SELECT created_at / 86400000, new.user_id, first_token_ms, count(*) FROM messages
    WHERE conversation_id = new.id AND role = 'assistant' AND first_token_ms IS NOT NULL GROUP BY 1, 3
    ON CONFLICT (user_id, day, ms) DO UPDATE SET answers = latency_user_daily.answers + excluded.answers;
END;
--> statement-breakpoint
INSERT INTO latency_user_daily (day, user_id, ms, answers)
  SELECT m.created_at / 86400000, c.user_id, m.first_token_ms, count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
  WHERE m.role = 'assistant' AND m.first_token_ms IS NOT NULL GROUP BY 1, 2, 3;
