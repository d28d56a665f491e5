-- Who wrote each user message. Until now a user message was taken to be the conversation's current owner's, so after
-- a reassignment the new owner was shown as the writer of the previous owner's questions. New user messages carry
-- their writer; the model's rows, and the user messages from before this migration, have none (they are the owner's).
-- The backfill gives the user messages of conversations that were ever reassigned the owner they had when they were
-- sent: the `from` of the first reassignment after them (audit `conversation.reassigned`), else the current owner.
-- (A deletion with `transferTo` left no per-conversation event: those older messages stay the heir's, as they showed.)
ALTER TABLE `messages` ADD `author_id` text;--> statement-breakpoint
UPDATE `messages` SET `author_id` = coalesce(
  (SELECT json_extract(a.meta, '$.from') FROM `audit_events` a
    WHERE a.target_id = messages.conversation_id AND a.action = 'conversation.reassigned' AND a.at > messages.created_at
    ORDER BY a.at LIMIT 1),
  (SELECT c.user_id FROM `conversations` c WHERE c.id = messages.conversation_id))
  WHERE `role` = 'user'
    AND `conversation_id` IN (SELECT target_id FROM `audit_events` WHERE action = 'conversation.reassigned');
