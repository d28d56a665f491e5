-- users.conversation_count / archived_conversation_count: the `total` of a user's conversation list (and the
-- admin users list's counts) read from one row instead of counting the user's conversations on every request.
-- Kept in the same transaction as the write by these triggers (like conversations.message_count in 0006).
CREATE TRIGGER `conversations_owner_count_insert` AFTER INSERT ON `conversations` BEGIN
  UPDATE users SET conversation_count = conversation_count + 1,
    archived_conversation_count = archived_conversation_count + (new.archived <> 0)
  WHERE id = new.user_id;
END;
--> statement-breakpoint
CREATE TRIGGER `conversations_owner_count_delete` AFTER DELETE ON `conversations` BEGIN
  UPDATE users SET conversation_count = conversation_count - 1,
    archived_conversation_count = archived_conversation_count - (old.archived <> 0)
  WHERE id = old.user_id;
END;
--> statement-breakpoint
CREATE TRIGGER `conversations_owner_count_update` AFTER UPDATE OF user_id, archived ON `conversations`
  WHEN old.user_id IS NOT new.user_id OR old.archived IS NOT new.archived BEGIN
  UPDATE users SET conversation_count = conversation_count - 1,
    archived_conversation_count = archived_conversation_count - (old.archived <> 0)
  WHERE id = old.user_id;
  UPDATE users SET conversation_count = conversation_count + 1,
    archived_conversation_count = archived_conversation_count + (new.archived <> 0)
  WHERE id = new.user_id;
END;
--> statement-breakpoint
UPDATE users SET
  conversation_count = (SELECT count(*) FROM conversations c WHERE c.user_id = users.id),
  archived_conversation_count = (SELECT count(*) FROM conversations c WHERE c.user_id = users.id AND c.archived <> 0);
