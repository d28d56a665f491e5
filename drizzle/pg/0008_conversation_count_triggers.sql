-- users.conversation_count / archived_conversation_count: the `total` of a user's conversation list (and the
-- admin users list's counts) read from one row instead of counting the user's conversations on every request.
-- Kept in the same transaction as the write by this trigger (like conversations.message_count in 0006).
CREATE FUNCTION conversations_owner_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('DELETE', 'UPDATE') THEN
    UPDATE users SET conversation_count = conversation_count - 1,
      archived_conversation_count = archived_conversation_count - (CASE WHEN OLD.archived THEN 1 ELSE 0 END)
    WHERE id = OLD.user_id;
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    UPDATE users SET conversation_count = conversation_count + 1,
      archived_conversation_count = archived_conversation_count + (CASE WHEN NEW.archived THEN 1 ELSE 0 END)
    WHERE id = NEW.user_id;
  END IF;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "conversations_owner_count_write" AFTER INSERT OR DELETE ON "conversations" FOR EACH ROW
  EXECUTE FUNCTION conversations_owner_count();
--> statement-breakpoint
CREATE TRIGGER "conversations_owner_count_update" AFTER UPDATE OF user_id, archived ON "conversations" FOR EACH ROW
  WHEN (OLD.user_id IS DISTINCT FROM NEW.user_id OR OLD.archived IS DISTINCT FROM NEW.archived)
  EXECUTE FUNCTION conversations_owner_count();
--> statement-breakpoint
UPDATE users u SET conversation_count = c.n, archived_conversation_count = c.a
  FROM (SELECT user_id, count(*) AS n, count(*) FILTER (WHERE archived) AS a FROM conversations GROUP BY user_id) c
  WHERE c.user_id = u.id;
