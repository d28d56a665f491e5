-- Who wrote each user message. Until now a user message was taken to be the conversation's current owner's, so after
-- a reassignment the new owner was shown as the writer of the previous owner's questions. New user messages carry
-- their writer; the model's rows, and the user messages from before this migration, have none (they are the owner's).
-- The backfill gives the user messages of conversations that were ever reassigned the owner they had when they were
-- sent: the `from` of the first reassignment after them (audit `conversation.reassigned`), else the current owner.
-- (A deletion with `transferTo` left no per-conversation event: those older messages stay the heir's, as they showed.)
-- Only those rows are rewritten: an UPDATE of every message would rewrite the search index's entries too (bench/README
-- "session 20": 353 s at 1M messages).
ALTER TABLE "messages" ADD COLUMN "author_id" text;--> statement-breakpoint
UPDATE "messages" m SET "author_id" = coalesce(
  (SELECT a.meta->>'from' FROM "audit_events" a
    WHERE a.target_id = m.conversation_id AND a.action = 'conversation.reassigned' AND a.at > m.created_at
    ORDER BY a.at LIMIT 1),
  c.user_id)
  FROM "conversations" c
  WHERE c.id = m.conversation_id AND m.role = 'user'
    AND m.conversation_id IN (SELECT target_id FROM "audit_events" WHERE action = 'conversation.reassigned');
