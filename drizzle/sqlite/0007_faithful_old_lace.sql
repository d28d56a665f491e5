ALTER TABLE `users` ADD `conversation_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `users` ADD `archived_conversation_count` integer DEFAULT 0 NOT NULL;